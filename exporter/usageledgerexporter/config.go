package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/configcheck"
	"github.com/usageledger/usageledger/internal/ledger"
)

// maxMonths bounds how many months /metrics exposes, which bounds the number
// of series one scrape carries. Longer history lives in the time-series store
// that scrapes the exporter.
const maxMonths = 120

var (
	errEmptyPath     = errors.New("path: must not be empty; expecting the ledger file, e.g. data/usage-ledger.db")
	errEmptyEndpoint = errors.New("metrics::endpoint: must not be empty; expecting host:port, e.g. localhost:9464")
	errMemoryQueue   = errors.New("sending_queue: an in-memory queue answers before the ledger commits; " +
		"expecting sending_queue::storage naming a storage extension such as file_storage, " +
		"or sending_queue::wait_for_result: true")
)

// Config is the configuration of the usageledger exporter. The exporter
// answers only once a batch is committed to disk; a sending queue is allowed
// only when it keeps that promise: persistent (storage set), so that
// acknowledged means on disk in the queue, or waiting for the result.
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

	// DefaultTimeZone is the IANA time zone whose calendar months count the
	// calls of an organization with no zone of its own. Default UTC.
	DefaultTimeZone string `mapstructure:"default_time_zone"`

	// Organizations holds settings per organization, by its name.
	Organizations map[string]OrganizationConfig `mapstructure:"organizations"`

	// FutureSkew is how far past its arrival a call may end and still be
	// booked at its end time; a call dated later is booked at its arrival.
	// Default 5m.
	FutureSkew time.Duration `mapstructure:"future_skew"`

	// Dedup keeps a span delivered again from counting twice.
	Dedup DedupConfig `mapstructure:"dedup"`

	// Limits bound the organizations and connections the ledger tracks.
	Limits LimitsConfig `mapstructure:"limits"`

	// Backup serves a consistent copy of the ledger file at /backup on the
	// metrics server, behind its auth. Default false: whoever can reach
	// /backup can read every organization's usage.
	Backup bool `mapstructure:"backup"`

	// Budgets are monthly USD budgets per organization and connection.
	Budgets BudgetsConfig `mapstructure:"budgets"`

	// TimeoutConfig bounds one commit; default 5s.
	TimeoutConfig exporterhelper.TimeoutConfig `mapstructure:",squash"`

	// RetryConfig retries a batch whose commit failed.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// QueueConfig is the sending queue, off by default. Only a persistent
	// queue or one that waits for the result is accepted.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Unmarshaler = (*Config)(nil)

// durations are the exporter's duration settings.
var durations = []configcheck.Duration{
	{Key: "future_skew", Example: "5m"},
	{Key: "timeout", Example: "5s"},
	{Key: "dedup::window", Example: "24h"},
	{Key: "retry_on_failure::initial_interval", Example: "5s"},
	{Key: "retry_on_failure::max_interval", Example: "30s"},
	{Key: "retry_on_failure::max_elapsed_time", Example: "5m"},
	{Key: "sending_queue::batch::flush_timeout", Example: "200ms"},
}

// Unmarshal reads the configuration, refusing a duration written without
// its unit.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := configcheck.BareDurations(conf, durations...); err != nil {
		return err
	}
	// fields has the fields of Config without its Unmarshal method.
	type fields Config
	return conf.Unmarshal((*fields)(cfg))
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
	errs = append(errs, ledger.ValidateMonths("pinned_months", cfg.PinnedMonths)...)
	if _, err := calendar.New(cfg.DefaultTimeZone, cfg.orgZones()); err != nil {
		errs = append(errs, err)
	}
	if cfg.FutureSkew < 0 {
		errs = append(errs, fmt.Errorf("future_skew: %s is negative; expecting a duration such as 5m", cfg.FutureSkew))
	}
	errs = append(errs, cfg.Dedup.validate(), cfg.Limits.validate(), cfg.Budgets.Check())
	if cfg.QueueConfig.HasValue() {
		q := cfg.QueueConfig.Get()
		if q.StorageID == nil && !q.WaitForResult {
			errs = append(errs, errMemoryQueue)
		}
	}
	return errors.Join(errs...)
}

// orgZones returns the zone name of each organization that names one.
func (cfg *Config) orgZones() map[string]string {
	zones := make(map[string]string, len(cfg.Organizations))
	for org, c := range cfg.Organizations {
		zones[org] = c.TimeZone
	}
	return zones
}

// OrganizationConfig holds the settings of one organization.
type OrganizationConfig struct {
	// TimeZone is the IANA time zone whose calendar months count the
	// organization's calls; empty means default_time_zone.
	TimeZone string `mapstructure:"time_zone"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DedupConfig keeps a span (trace id and span id) delivered again, or a
// second span of the same provider response (trace id and response id),
// within a window of the first one's arrival from counting twice, across
// restarts too.
type DedupConfig struct {
	// Window is how long after a span's arrival another delivery of it is
	// not counted; 0 turns dedup off. Default 24h.
	Window time.Duration `mapstructure:"window"`
	// MaxEntries bounds the keys kept, span and response keys together
	// (a call with a response id records both); past it the oldest are
	// forgotten before their window ends. 0 means no bound. Default 5,000,000.
	MaxEntries int `mapstructure:"max_entries"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (cfg DedupConfig) validate() error {
	var errs []error
	if cfg.Window < 0 {
		errs = append(errs, fmt.Errorf(
			"dedup::window: %s is negative; expecting a duration such as 24h, or 0 to turn dedup off", cfg.Window))
	}
	if cfg.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf(
			"dedup::max_entries: %d is negative; expecting a number of keys, or 0 for no bound", cfg.MaxEntries))
	}
	return errors.Join(errs...)
}

// LimitsConfig bounds how many organizations, connections per
// organization and models per connection get rows of their own. Calls of
// the ones past a limit are booked to the overflow organization, connection
// or model, so totals stay right.
type LimitsConfig struct {
	// Organizations is the most organizations with rows of their own.
	// Default 1000.
	Organizations int `mapstructure:"organizations"`
	// ConnectionsPerOrganization is the most connections of one
	// organization with rows of their own. Default 10000.
	ConnectionsPerOrganization int `mapstructure:"connections_per_organization"`
	// ModelsPerConnection is the most models of one connection with rows
	// of their own in the months the exporter has seen since it started,
	// and in the exposed months before. Default 100.
	ModelsPerConnection int `mapstructure:"models_per_connection"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (cfg LimitsConfig) validate() error {
	var errs []error
	if cfg.Organizations < 1 {
		errs = append(errs, fmt.Errorf("limits::organizations: %d is out of range; expecting at least 1",
			cfg.Organizations))
	}
	if cfg.ConnectionsPerOrganization < 1 {
		errs = append(errs, fmt.Errorf("limits::connections_per_organization: %d is out of range; expecting at least 1",
			cfg.ConnectionsPerOrganization))
	}
	if cfg.ModelsPerConnection < 1 {
		errs = append(errs, fmt.Errorf("limits::models_per_connection: %d is out of range; expecting at least 1",
			cfg.ModelsPerConnection))
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
