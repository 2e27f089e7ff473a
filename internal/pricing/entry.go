package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"errors"
	"fmt"
	"time"

	"github.com/usageledger/usageledger/internal/provider"
)

// dateLayout is the form of an entry's effective date, read as UTC.
const dateLayout = "2006-01-02"

// priceEntry is one dated price of one model. Amounts are decimal USD per
// million tokens (per thousand for calls and searches), kept as the text
// written in the file so that they are parsed exactly.
type priceEntry struct {
	Provider string   `yaml:"provider" json:"provider,omitempty"`
	Model    string   `yaml:"model" json:"model,omitempty"`
	Aliases  []string `yaml:"aliases" json:"aliases,omitempty"`
	// DatedVersions says names with a snapshot date after the model name
	// ("-2025-08-06", "-20250929") are this model.
	DatedVersions bool   `yaml:"dated_versions" json:"dated_versions,omitempty"`
	Effective     string `yaml:"effective" json:"effective,omitempty"`
	// ServiceTier is empty for the standard price, or the tier a call
	// reports ("batch", "flex", "priority") that this price is for.
	ServiceTier string `yaml:"service_tier" json:"service_tier,omitempty"`
	// Hours limits the price to a daily UTC window, "HH:MM-HH:MM".
	Hours string `yaml:"hours" json:"hours,omitempty"`

	Input        string `yaml:"input" json:"input,omitempty"`
	Output       string `yaml:"output" json:"output,omitempty"`
	CacheRead    string `yaml:"cache_read" json:"cache_read,omitempty"`
	CacheWrite   string `yaml:"cache_write" json:"cache_write,omitempty"`
	CacheWrite1h string `yaml:"cache_write_1h" json:"cache_write_1h,omitempty"`

	LongContext *longContextEntry `yaml:"long_context" json:"long_context,omitempty"`

	PerThousandCalls     string `yaml:"per_thousand_calls" json:"per_thousand_calls,omitempty"`
	WebSearchPerThousand string `yaml:"web_search_per_thousand" json:"web_search_per_thousand,omitempty"`

	// NotApplied lists the dataset's prices for this entry that the product
	// does not charge (audio or image tokens, say); informational.
	NotApplied []string `yaml:"not_applied" json:"not_applied,omitempty"`

	Source priceSource `yaml:"source" json:"source,omitempty"`
}

// longContextEntry is the tier of a model whose rates rise for long
// requests. A rate it leaves out stays the entry's own rate.
type longContextEntry struct {
	Above        int64  `yaml:"above" json:"above,omitempty"`
	Input        string `yaml:"input" json:"input,omitempty"`
	Output       string `yaml:"output" json:"output,omitempty"`
	CacheRead    string `yaml:"cache_read" json:"cache_read,omitempty"`
	CacheWrite   string `yaml:"cache_write" json:"cache_write,omitempty"`
	CacheWrite1h string `yaml:"cache_write_1h" json:"cache_write_1h,omitempty"`
}

// priceSource says where a price was read and when.
type priceSource struct {
	URL  string `yaml:"url" json:"url,omitempty"`
	Read string `yaml:"read" json:"read,omitempty"`
}

// price validates the entry and converts it to a Price.
func (e priceEntry) price() (Price, error) {
	if e.Provider == "" {
		return Price{}, errors.New("'provider' is empty; expecting a provider name such as \"openai\"")
	}
	if !provider.IsNormalized(e.Provider) {
		return Price{}, fmt.Errorf("'provider' %q is not a normalized name; expecting %q",
			e.Provider, provider.Normalize(e.Provider))
	}
	if e.Model == "" {
		return Price{}, errors.New("'model' is empty; expecting the model name calls report")
	}
	effective, err := time.ParseInLocation(dateLayout, e.Effective, time.UTC)
	if err != nil {
		return Price{}, fmt.Errorf("'effective' %q is not a date; expecting YYYY-MM-DD", e.Effective)
	}
	if e.Source.URL == "" || e.Source.Read == "" {
		return Price{}, errors.New("'source' needs 'url' and 'read' (the date the price was read)")
	}
	if _, err := time.Parse(dateLayout, e.Source.Read); err != nil {
		return Price{}, fmt.Errorf("'source.read' %q is not a date; expecting YYYY-MM-DD", e.Source.Read)
	}

	if e.ServiceTier != "" && !isTierName(e.ServiceTier) {
		return Price{}, fmt.Errorf("'service_tier' %q is not a lower-case tier name; expecting e.g. batch",
			e.ServiceTier)
	}

	var hours Hours
	if e.Hours != "" {
		if hours, err = parseHours(e.Hours); err != nil {
			return Price{}, err
		}
	}

	p := Price{
		Hours:       hours,
		Provider:    e.Provider,
		Model:       e.Model,
		Effective:   effective,
		ServiceTier: e.ServiceTier,
		Source:      e.Source.URL + " (read " + e.Source.Read + ")",
	}
	if p.PerCall, err = optional(callUnit, "per_thousand_calls", e.PerThousandCalls, 0); err != nil {
		return Price{}, err
	}
	if p.WebSearch, err = optional(callUnit, "web_search_per_thousand", e.WebSearchPerThousand, 0); err != nil {
		return Price{}, err
	}
	// A tool or MCP call priced per call needs no token prices.
	if e.PerThousandCalls == "" || e.Input != "" {
		if p.Input, err = parsePerMillion("input", e.Input); err != nil {
			return Price{}, err
		}
	}
	if e.PerThousandCalls == "" || e.Output != "" {
		if p.Output, err = parsePerMillion("output", e.Output); err != nil {
			return Price{}, err
		}
	}
	if p.Rates, err = e.cacheRates(p.Rates); err != nil {
		return Price{}, err
	}
	if e.LongContext != nil {
		if p.LongContext, err = e.LongContext.tier(p.Rates); err != nil {
			return Price{}, err
		}
	}
	return p, nil
}

// cacheRates fills the cache rates of r from the entry; a cache rate the
// entry leaves out follows the documented defaults.
func (e priceEntry) cacheRates(r Rates) (Rates, error) {
	var err error
	if r.CacheRead, err = optional(tokenUnit, "cache_read", e.CacheRead, r.Input); err != nil {
		return r, err
	}
	if r.CacheWrite, err = optional(tokenUnit, "cache_write", e.CacheWrite, r.Input); err != nil {
		return r, err
	}
	if r.CacheWrite1h, err = optional(tokenUnit, "cache_write_1h", e.CacheWrite1h, r.CacheWrite); err != nil {
		return r, err
	}
	return r, nil
}

// tier converts the long-context tier; rates it leaves out stay base's.
func (l longContextEntry) tier(base Rates) (LongContext, error) {
	if l.Above <= 0 {
		return LongContext{}, fmt.Errorf("'long_context.above' %d must be a positive number of input tokens, "+
			"e.g. 200000", l.Above)
	}
	r := base
	var err error
	if r.Input, err = optional(tokenUnit, "long_context.input", l.Input, base.Input); err != nil {
		return LongContext{}, err
	}
	if r.Output, err = optional(tokenUnit, "long_context.output", l.Output, base.Output); err != nil {
		return LongContext{}, err
	}
	if r.CacheRead, err = optional(tokenUnit, "long_context.cache_read", l.CacheRead, base.CacheRead); err != nil {
		return LongContext{}, err
	}
	if r.CacheWrite, err = optional(tokenUnit, "long_context.cache_write", l.CacheWrite, base.CacheWrite); err != nil {
		return LongContext{}, err
	}
	if r.CacheWrite1h, err = optional(tokenUnit, "long_context.cache_write_1h", l.CacheWrite1h,
		base.CacheWrite1h); err != nil {
		return LongContext{}, err
	}
	return LongContext{Above: l.Above, Rates: r}, nil
}

// optional parses text in unit u, or returns def when text is empty.
func optional(u unit, field, text string, def int64) (int64, error) {
	if text == "" {
		return def, nil
	}
	return u.parse(field, text)
}

// isTierName reports whether s is a service tier name as calls report it:
// lower-case letters, digits and underscores.
func isTierName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}
