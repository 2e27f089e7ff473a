package genaiusageprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id       component.ID
		expected component.Config
		errorMsg string
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: createDefaultConfig(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "all_settings"),
			expected: &Config{
				OrgKeys:           []string{"customer.id", "tenant.id"},
				DefaultOrg:        "acme",
				ConnectionKeys:    []string{"connection.name"},
				AgentKeys:         []string{"gen_ai.agent.name", "service.name"},
				TeamKeys:          []string{"team.name"},
				CostCenterKeys:    []string{"finance.cost_center"},
				CountToolCalls:    false,
				TrustCountedSpans: false,
				Outcomes: OutcomesConfig{
					Blocked:     []string{`attributes["guard.verdict"] == "deny"`},
					RateLimited: []string{`attributes["http.response.status_code"] == 503`},
				},
				UsageEstimated: []string{`attributes["usage.source"] == "tokenizer"`},
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "no_chargeback_labels"),
			expected: func() component.Config {
				cfg := createDefaultConfig().(*Config)
				cfg.TeamKeys = []string{}
				cfg.CostCenterKeys = []string{}
				return cfg
			}(),
		},
		{
			id:       component.NewIDWithName(metadata.Type, "empty_default_org"),
			errorMsg: `'default_org' must be a non-empty UTF-8 string, e.g. "default"; got "  "`,
		},
		{
			id:       component.NewIDWithName(metadata.Type, "empty_org_key"),
			errorMsg: `'org_keys[1]' must be a non-empty attribute name, e.g. "tenant.id"; got ""`,
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_condition"),
			errorMsg: `'outcomes::rate_limited[1]' must be an OTTL condition on a span, e.g. ` +
				`'attributes["http.response.status_code"] == 429'; got "status.code ==="`,
		},
		{
			id: component.NewIDWithName(metadata.Type, "duplicate_agent_key"),
			errorMsg: `'agent_keys[2]' must not repeat an attribute name: ` +
				`"service.name" is already 'agent_keys[0]'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))

			err = confmap.Validate(cfg)
			if tt.errorMsg != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errorMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestLoadConfigUnknownKey(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "unknown_key").String())
	require.NoError(t, err)

	err = sub.Unmarshal(createDefaultConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "org_key")
}

// TestLoadConfigDedupMoved fails a configuration that still sets the
// response-id memory this processor no longer has, pointing to the exporter.
func TestLoadConfigDedupMoved(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "dedup_moved_to_exporter").String())
	require.NoError(t, err)

	err = sub.Unmarshal(createDefaultConfig())
	require.ErrorIs(t, err, errDedupMoved)
	assert.ErrorContains(t, err, "'dedup' is no longer a setting of this processor")
	assert.ErrorContains(t, err, "'dedup::window'")
}

func TestValidateJoinsErrors(t *testing.T) {
	cfg := &Config{
		DefaultOrg:     "",
		OrgKeys:        []string{" "},
		CostCenterKeys: []string{"cc", "cc"},
	}
	err := cfg.Validate()
	require.ErrorIs(t, err, errEmptyDefaultOrg)
	require.ErrorIs(t, err, errEmptyKey)
	require.ErrorIs(t, err, errDuplicateKey)
	assert.Contains(t, err.Error(), "'org_keys[0]'")
	assert.Contains(t, err.Error(), "'cost_center_keys[1]'")
}

func TestValidateDefaultOrgUTF8(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.DefaultOrg = "acme\xff"
	require.ErrorIs(t, cfg.Validate(), errEmptyDefaultOrg)
}
