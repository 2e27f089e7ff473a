package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/confmap"
)

var (
	errEmptyDefaultOrg = errors.New("'default_org' must be a non-empty UTF-8 string, e.g. \"default\"")
	errEmptyKey        = errors.New("must be a non-empty attribute name, e.g. \"tenant.id\"")
	errDuplicateKey    = errors.New("must not repeat an attribute name")
)

// Config tells the processor where to find a call's identity. Every key list
// is tried in order; for each key the span attribute is read first, then the
// resource attribute, and the first non-empty value wins.
type Config struct {
	// OrgKeys name the attributes holding the organization a call is
	// attributed to. Default: [tenant.id, org.id].
	OrgKeys []string `mapstructure:"org_keys"`
	// DefaultOrg is the organization of a call none of OrgKeys names.
	// Default: "default".
	DefaultOrg string `mapstructure:"default_org"`

	// ConnectionKeys name attributes that set a call's connection
	// explicitly. Without one, the connection is "<agent>/<provider>".
	// Default: [usageledger.connection].
	ConnectionKeys []string `mapstructure:"connection_keys"`
	// AgentKeys name the attributes holding the agent or application that
	// made the call; "unknown" when none is present.
	// Default: [gen_ai.agent.name, gen_ai.agent.id, service.name].
	AgentKeys []string `mapstructure:"agent_keys"`

	// TeamKeys and CostCenterKeys name the attributes holding the
	// connection's chargeback labels; a label none of them names is left
	// out. Defaults: [usageledger.team, team] and
	// [usageledger.cost_center, cost_center].
	TeamKeys       []string `mapstructure:"team_keys"`
	CostCenterKeys []string `mapstructure:"cost_center_keys"`

	// Pricing says which prices calls are charged at.
	Pricing PricingConfig `mapstructure:"pricing"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks that every key list holds distinct, non-empty names and
// that the default organization is set.
func (cfg *Config) Validate() error {
	var errs []error
	if identityValue(cfg.DefaultOrg) == "" || !utf8.ValidString(cfg.DefaultOrg) {
		errs = append(errs, errDefaultOrg(cfg.DefaultOrg))
	}
	for _, list := range []struct {
		name string
		keys []string
	}{
		{"org_keys", cfg.OrgKeys},
		{"connection_keys", cfg.ConnectionKeys},
		{"agent_keys", cfg.AgentKeys},
		{"team_keys", cfg.TeamKeys},
		{"cost_center_keys", cfg.CostCenterKeys},
	} {
		errs = append(errs, validateKeys(list.name, list.keys)...)
	}
	return errors.Join(errs...)
}

func errDefaultOrg(got string) error {
	return fmt.Errorf("%w; got %q", errEmptyDefaultOrg, got)
}

// validateKeys returns one error per empty or repeated key of the list name.
func validateKeys(name string, keys []string) []error {
	var errs []error
	seen := make(map[string]int, len(keys))
	for i, key := range keys {
		if strings.TrimSpace(key) == "" {
			errs = append(errs, fmt.Errorf("'%s[%d]' %w; got %q", name, i, errEmptyKey, key))
			continue
		}
		if first, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("'%s[%d]' %w: %q is already '%s[%d]'",
				name, i, errDuplicateKey, key, name, first))
			continue
		}
		seen[key] = i
	}
	return errs
}
