package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/usageledger/usageledger/internal/pricing"
)

var errEmptyPriceFile = errors.New("must be a path to a price file, e.g. /etc/otelcol/prices.yaml")

// PricingConfig says which prices the processor charges calls at: the table
// shipped with the product, the user's own price files on top of it, and
// what to do with a cost the span already carries.
type PricingConfig struct {
	// Files are the user's price files, in the format of PRICING.md, loaded
	// after the shipped table in order: an entry for the same provider,
	// model and effective date as an earlier one replaces it, any other
	// entry adds to the model's price history. Default: none.
	Files []string `mapstructure:"files"`
	// Aliases map model names calls report, such as Azure OpenAI deployment
	// names, to the model they are priced as, e.g. {prod-gpt4o: gpt-4o}.
	// Default: none.
	Aliases map[string]string `mapstructure:"aliases"`
	// SpanCost says what to do with a cost the span already reports
	// (gen_ai.usage.cost, llm.cost.total, LiteLLM's cost attributes):
	// "computed" charges the price table's cost and ignores it, "reported"
	// charges the span's cost when it has one, "compare" charges the
	// computed cost and counts the difference. Default (empty): computed.
	SpanCost pricing.SpanCostPolicy `mapstructure:"span_cost"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the pricing settings and loads the price files, so that a
// broken file fails the collector at start with an error naming the file
// and the entry. SpanCost validates itself.
func (cfg *PricingConfig) Validate() error {
	var errs []error
	for i, path := range cfg.Files {
		if strings.TrimSpace(path) == "" {
			errs = append(errs, fmt.Errorf("'files[%d]' %w; got %q", i, errEmptyPriceFile, path))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if _, err := cfg.load(); err != nil {
		return err
	}
	return nil
}

// load returns the price table calls are charged at: the shipped one when
// the user configured no files or aliases, which is parsed once per process.
func (cfg *PricingConfig) load() (*pricing.Table, error) {
	if len(cfg.Files) == 0 && len(cfg.Aliases) == 0 {
		prices, err := pricing.Builtin()
		if err != nil {
			return nil, fmt.Errorf("cannot load the built-in price table: %w", err)
		}
		return prices, nil
	}

	sources := pricing.BuiltinSources()
	for i, path := range cfg.Files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("'files[%d]': cannot read price file: %w", i, err)
		}
		sources = append(sources, pricing.Source{Name: path, Data: data})
	}
	// Compile's errors name the file, the entry or the alias at fault.
	return pricing.Compile(sources, pricing.Options{Aliases: cfg.Aliases})
}
