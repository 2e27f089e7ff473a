package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Config holds monthly USD budgets per organization and connection. Budgets
// are lists rather than maps keyed by "org/connection", as connection names
// may contain "/":
//
//	budgets:
//	  organizations:
//	    - org: acme
//	      monthly_usd: 500
//	  connections:
//	    - org: acme
//	      connection: support-bot/openai
//	      monthly_usd: 99.95
type Config struct {
	// Organizations are budgets for an organization's whole spend.
	Organizations []Organization `mapstructure:"organizations"`

	// Connections are budgets for one connection of an organization.
	Connections []Connection `mapstructure:"connections"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Organization is the monthly budget of one organization.
type Organization struct {
	Org string `mapstructure:"org"`
	// MonthlyUSD is a positive plain decimal number of dollars with at most
	// 12 decimals, such as "500" or "99.95"; YAML numbers are read as
	// written.
	MonthlyUSD string `mapstructure:"monthly_usd"`
}

// Connection is the monthly budget of one connection.
type Connection struct {
	Org        string `mapstructure:"org"`
	Connection string `mapstructure:"connection"`
	// MonthlyUSD is as in [Organization].
	MonthlyUSD string `mapstructure:"monthly_usd"`
}

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal reads the budgets, accepting monthly_usd as a YAML number or a
// quoted decimal.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := quoteAmounts(conf, "organizations"); err != nil {
		return err
	}
	if err := quoteAmounts(conf, "connections"); err != nil {
		return err
	}
	// fields has the fields of Config without its Unmarshal method.
	type fields Config
	return conf.Unmarshal((*fields)(cfg))
}

// quoteAmounts rewrites every monthly_usd number of the list at key as the
// decimal text it was written as, so it decodes into a string. YAML reads
// 99.95 as the float64 nearest to it, whose shortest decimal form is again
// 99.95; a float64 keeps any decimal of up to 15 significant digits this way.
// A shortest form of more digits comes from a number written with more, which
// the float64 may not hold exactly: it is refused, to be written quoted.
func quoteAmounts(conf *confmap.Conf, key string) error {
	raw, ok := conf.Get(key).([]any)
	if !ok {
		return nil
	}
	for i, item := range raw {
		entry, ok := item.(map[string]any)
		if !ok {
			continue
		}
		switch v := entry["monthly_usd"].(type) {
		case int:
			entry["monthly_usd"] = strconv.Itoa(v)
		case int64:
			entry["monthly_usd"] = strconv.FormatInt(v, 10)
		case uint64:
			entry["monthly_usd"] = strconv.FormatUint(v, 10)
		case float64:
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return fmt.Errorf("budgets::%s[%d]::monthly_usd: %v is not a number of dollars; "+
					"expecting a positive decimal such as 500 or 99.95", key, i, v)
			}
			if digits := significantDigits(v); digits > 15 {
				return fmt.Errorf("budgets::%s[%d]::monthly_usd: %s has %d significant digits, more than a "+
					"YAML number keeps exactly; expecting the amount as written, quoted, such as \"99.95\"",
					key, i, strconv.FormatFloat(v, 'f', -1, 64), digits)
			}
			entry["monthly_usd"] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return conf.Merge(confmap.NewFromStringMap(map[string]any{key: raw}))
}

// Check checks that every budget names its organization (and connection)
// once and has a positive amount of dollars. Its errors name keys from
// budgets down, so the configuration holding the budgets calls it from its
// own Validate; the collector prefixes those errors with that
// configuration's path only.
func (cfg *Config) Check() error {
	var errs []error
	orgs := make(map[string]int, len(cfg.Organizations))
	for i, b := range cfg.Organizations {
		key := fmt.Sprintf("budgets::organizations[%d]", i)
		if b.Org == "" {
			errs = append(errs, fmt.Errorf("%s::org: must not be empty; expecting an organization", key))
		} else if j, dup := orgs[b.Org]; dup {
			errs = append(errs, fmt.Errorf("%s::org: %q has a budget already at budgets::organizations[%d]; "+
				"expecting one budget per organization", key, b.Org, j))
		} else {
			orgs[b.Org] = i
		}
		if _, err := ParseUSD(b.MonthlyUSD); err != nil {
			errs = append(errs, fmt.Errorf("%s::monthly_usd: %w", key, err))
		}
	}

	type connKey struct{ org, connection string }
	conns := make(map[connKey]int, len(cfg.Connections))
	for i, b := range cfg.Connections {
		key := fmt.Sprintf("budgets::connections[%d]", i)
		switch {
		case b.Org == "":
			errs = append(errs, fmt.Errorf("%s::org: must not be empty; expecting an organization", key))
		case b.Connection == "":
			errs = append(errs, fmt.Errorf("%s::connection: must not be empty; expecting a connection", key))
		default:
			k := connKey{b.Org, b.Connection}
			if j, dup := conns[k]; dup {
				errs = append(errs, fmt.Errorf("%s: %q of %q has a budget already at budgets::connections[%d]; "+
					"expecting one budget per connection", key, b.Connection, b.Org, j))
			} else {
				conns[k] = i
			}
		}
		if _, err := ParseUSD(b.MonthlyUSD); err != nil {
			errs = append(errs, fmt.Errorf("%s::monthly_usd: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// Empty reports whether no budget is configured.
func (cfg *Config) Empty() bool {
	return len(cfg.Organizations) == 0 && len(cfg.Connections) == 0
}

// orgs returns the organizations that budgets watch, each once.
func (cfg *Config) orgs() []string {
	var orgs []string
	for _, b := range cfg.Organizations {
		if !slices.Contains(orgs, b.Org) {
			orgs = append(orgs, b.Org)
		}
	}
	for _, b := range cfg.Connections {
		if !slices.Contains(orgs, b.Org) {
			orgs = append(orgs, b.Org)
		}
	}
	return orgs
}

// significantDigits returns the number of significant digits of the
// shortest decimal form of v.
func significantDigits(v float64) int {
	mantissa, _, _ := strings.Cut(strconv.FormatFloat(v, 'e', -1, 64), "e")
	return len(strings.TrimLeft(strings.ReplaceAll(mantissa, ".", ""), "-"))
}
