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
	errDedupMoved      = errors.New("'dedup' is no longer a setting of this processor: the usageledger " +
		"exporter recognizes spans of one call in different requests by their response id, within its " +
		"own 'dedup::window' and 'dedup::max_entries'; remove 'dedup' here")
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

	// CountToolCalls counts every execute_tool span (and every other
	// dialect's tool execution) as one call on a connection whose target is
	// the tool. MCP client calls are counted either way. Default: true.
	CountToolCalls bool `mapstructure:"count_tool_calls"`

	// TrustCountedSpans takes a span a collector in front already counted
	// as it is: one marked usageledger.duplicate, or usageledger.counted
	// with the organization, connection, outcome and model a collector
	// writes beside the mark (without them, the span is derived again, or
	// loses its marks if it is no call). False, for the collector that
	// receives spans from clients, derives every such span again from its
	// own attributes, as marks a client set are not a collector's, and
	// removes the counted and duplicate marks from a span it does not
	// count. Only there: behind a collector that counted, deriving its
	// normalized counts again counts some twice. Default: true.
	TrustCountedSpans bool `mapstructure:"trust_counted_spans"`

	// Outcomes holds conditions, in OTTL, that decide a call's outcome
	// before the built-in signals do.
	Outcomes OutcomesConfig `mapstructure:"outcomes"`
	// UsageEstimated holds OTTL conditions that mark a call's token counts
	// as estimated, besides the dialects known to estimate. Default: none.
	UsageEstimated []string `mapstructure:"usage_estimated"`

	// Pricing says which prices calls are charged at.
	Pricing PricingConfig `mapstructure:"pricing"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// OutcomesConfig holds the user's own outcome conditions, written in OTTL
// for the span context (attributes, resource.attributes, status, name, ...).
// They run only on spans already found to be calls; a rate_limited
// condition is tried before a blocked one, and both before the built-in
// signals.
type OutcomesConfig struct {
	// Blocked conditions mark a call a guardrail refused. Default: none.
	Blocked []string `mapstructure:"blocked"`
	// RateLimited conditions mark a throttled call. Default: none.
	RateLimited []string `mapstructure:"rate_limited"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var (
	_ confmap.Validator   = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal reads the configuration, and names the key that moved to the
// exporter rather than failing on it as an unknown one.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if conf.IsSet("dedup") {
		return errDedupMoved
	}
	return conf.Unmarshal(cfg)
}

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
	if _, err := newConditions(cfg, nopTelemetry()); err != nil {
		errs = append(errs, err)
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
