package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/configcheck"
	"github.com/usageledger/usageledger/internal/ledger"
)

// maxMonths bounds how many months one read emits, as the exporter does for
// /metrics.
const maxMonths = 120

var errEmptyPath = errors.New("path: must not be empty; expecting the ledger file, e.g. data/usage-ledger.db")

// Config is the configuration of the usageledger receiver.
type Config struct {
	// ControllerConfig sets collection_interval (default 30s), initial_delay
	// (default 1s) and timeout (default none) of each read.
	scraperhelper.ControllerConfig `mapstructure:",squash"`

	// Path is the ledger file. When the usageledger exporter of the same
	// collector names the same path, both share one handle. Default
	// data/usage-ledger.db.
	Path string `mapstructure:"path"`

	// Months is how many calendar months each read emits, counting back from
	// the current one. Default 2, at most 120.
	Months int `mapstructure:"months"`

	// PinnedMonths, when not empty, are exactly the months each read emits,
	// as "YYYY-MM", whatever today's date; Months is then ignored.
	PinnedMonths []string `mapstructure:"pinned_months"`

	// DefaultTimeZone and Organizations give each organization the time
	// zone of its calendar months, which sets the start time of its
	// counters. Set them as on the usageledger exporter. Default UTC.
	DefaultTimeZone string                        `mapstructure:"default_time_zone"`
	Organizations   map[string]OrganizationConfig `mapstructure:"organizations"`

	// Budgets are monthly USD budgets per organization and connection, set
	// as on the usageledger exporter; each read emits where they stand in
	// the current month. Default none.
	Budgets budget.Config `mapstructure:"budgets"`

	// prevent unkeyed literal initialization
	_ struct{}
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
	// TimeZone is the IANA time zone of the organization's calendar months;
	// empty means default_time_zone.
	TimeZone string `mapstructure:"time_zone"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Unmarshaler = (*Config)(nil)

// durations are the receiver's duration settings.
var durations = []configcheck.Duration{
	{Key: "collection_interval", Example: "30s"},
	{Key: "initial_delay", Example: "1s"},
	{Key: "timeout", Example: "10s"},
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
	if cfg.CollectionInterval <= 0 {
		errs = append(errs, fmt.Errorf(
			"collection_interval: %s is not positive; expecting a duration such as 30s", cfg.CollectionInterval))
	}
	if cfg.InitialDelay < 0 {
		errs = append(errs, fmt.Errorf(
			"initial_delay: %s is negative; expecting 0s or a positive duration such as 1s", cfg.InitialDelay))
	}
	errs = append(errs, cfg.Budgets.Check())
	if cfg.Months < 1 || cfg.Months > maxMonths {
		errs = append(errs, fmt.Errorf("months: %d is out of range; expecting 1 to %d", cfg.Months, maxMonths))
	}
	errs = append(errs, ledger.ValidateMonths("pinned_months", cfg.PinnedMonths)...)
	if _, err := calendar.New(cfg.DefaultTimeZone, cfg.orgZones()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
