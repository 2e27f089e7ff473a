package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/usageledger/usageledger/internal/ledger"
)

// maxMonths bounds how many months /metrics exposes, which bounds the number
// of series one scrape carries. Longer history lives in the time-series store
// that scrapes the exporter.
const maxMonths = 120

var (
	errEmptyPath     = errors.New("path: must not be empty; expecting the ledger file, e.g. data/usage-ledger.db")
	errEmptyEndpoint = errors.New("metrics::endpoint: must not be empty; expecting host:port, e.g. localhost:9464")
	errSendingQueue  = errors.New("sending_queue: not supported; the exporter answers once calls are " +
		"committed to disk, and a queue would answer before that")
)

// Config is the configuration of the usageledger exporter. There is no
// sending queue: the exporter answers only once a batch is committed to disk,
// and a queue in memory would answer before that.
type Config struct {
	// Path is the ledger file, relative to the working directory unless
	// absolute. Default data/usage-ledger.db.
	Path string `mapstructure:"path"`

	// Metrics is the HTTP server that serves the ledger at /metrics, with the
	// usual TLS, auth and CORS settings. Default endpoint localhost:9464.
	Metrics confighttp.ServerConfig `mapstructure:"metrics"`

	// Months is how many calendar months /metrics exposes, counting back from
	// the current one: 2 exposes the current and the previous month.
	// Default 2, at most 120.
	Months int `mapstructure:"months"`

	// PinnedMonths, when not empty, are exactly the months /metrics exposes,
	// as "YYYY-MM", whatever today's date; Months is then ignored. For
	// back-fills and tests.
	PinnedMonths []string `mapstructure:"pinned_months"`

	// Budgets are monthly USD budgets per organization and connection.
	Budgets BudgetsConfig `mapstructure:"budgets"`

	// TimeoutConfig bounds one commit; default 5s.
	TimeoutConfig exporterhelper.TimeoutConfig `mapstructure:",squash"`

	// RetryConfig retries a batch whose commit failed.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal reads the configuration, rejecting a sending_queue section with
// the reason rather than as an unknown key.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if conf.IsSet("sending_queue") {
		return errSendingQueue
	}
	// configFields has the fields of Config without its Unmarshal method.
	type configFields Config
	return conf.Unmarshal((*configFields)(cfg))
}

// Validate checks the configuration, naming the key of a bad value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Path == "" {
		errs = append(errs, errEmptyPath)
	}
	if cfg.Metrics.NetAddr.Endpoint == "" {
		errs = append(errs, errEmptyEndpoint)
	}
	if cfg.Months < 1 || cfg.Months > maxMonths {
		errs = append(errs, fmt.Errorf("months: %d is out of range; expecting 1 to %d", cfg.Months, maxMonths))
	}
	seen := make(map[string]int, len(cfg.PinnedMonths))
	for i, m := range cfg.PinnedMonths {
		if err := ledger.ValidateMonth(m); err != nil {
			errs = append(errs, fmt.Errorf("pinned_months[%d]: %w", i, err))
			continue
		}
		if j, dup := seen[m]; dup {
			errs = append(errs, fmt.Errorf(
				"pinned_months[%d]: %q is listed already at pinned_months[%d]; expecting each month once", i, m, j))
			continue
		}
		seen[m] = i
	}
	return errors.Join(errs...)
}
