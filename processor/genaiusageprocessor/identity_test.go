package genaiusageprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestIdentity(t *testing.T) {
	defaults := newIdentityReader(createDefaultConfig().(*Config))

	tests := []struct {
		name     string
		reader   identityReader
		span     map[string]any
		resource map[string]any
		provider string
		want     identity
	}{
		{
			name:     "resource service and tenant",
			resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
			provider: "openai",
			want:     identity{org: "acme", connection: "support-bot/openai"},
		},
		{
			name:     "span attribute wins over resource for the same key",
			span:     map[string]any{"tenant.id": "globex"},
			resource: map[string]any{"tenant.id": "acme", "service.name": "bot"},
			provider: "openai",
			want:     identity{org: "globex", connection: "bot/openai"},
		},
		{
			name:     "earlier key on the resource wins over later key on the span",
			span:     map[string]any{"org.id": "from-span"},
			resource: map[string]any{"tenant.id": "from-resource"},
			provider: "openai",
			want:     identity{org: "from-resource", connection: "unknown/openai"},
		},
		{
			name:     "no org key is the default org",
			resource: map[string]any{"service.name": "bot"},
			provider: "anthropic",
			want:     identity{org: "default", connection: "bot/anthropic"},
		},
		{
			name:     "agent name wins over service name",
			span:     map[string]any{"gen_ai.agent.name": "planner"},
			resource: map[string]any{"service.name": "bot"},
			provider: "openai",
			want:     identity{org: "default", connection: "planner/openai"},
		},
		{
			name:     "agent id when no agent name",
			span:     map[string]any{"gen_ai.agent.id": "asst_123"},
			resource: map[string]any{"service.name": "bot"},
			provider: "openai",
			want:     identity{org: "default", connection: "asst_123/openai"},
		},
		{
			name:     "explicit connection on the resource",
			span:     map[string]any{"gen_ai.agent.name": "planner"},
			resource: map[string]any{"usageledger.connection": "billing-gateway", "service.name": "bot"},
			provider: "openai",
			want:     identity{org: "default", connection: "billing-gateway"},
		},
		{
			name:     "no agent",
			provider: "unknown",
			want:     identity{org: "default", connection: "unknown/unknown"},
		},
		{
			name: "empty and blank values count as absent",
			span: map[string]any{"tenant.id": "  ", "gen_ai.agent.name": "", "usageledger.connection": "\t"},
			resource: map[string]any{
				"org.id": " acme ", "service.name": " bot\n",
			},
			provider: "openai",
			want:     identity{org: "acme", connection: "bot/openai"},
		},
		{
			name:     "invalid UTF-8 is replaced",
			resource: map[string]any{"tenant.id": "ac\xffme", "service.name": "b\xc3ot"},
			provider: "openai",
			want:     identity{org: "ac\uFFFDme", connection: "b\uFFFDot/openai"},
		},
		{
			name:     "numbers name an org, maps and arrays do not",
			span:     map[string]any{"tenant.id": map[string]any{"x": 1}, "org.id": int64(42)},
			resource: map[string]any{"service.name": []any{"a"}},
			provider: "openai",
			want:     identity{org: "42", connection: "unknown/openai"},
		},
		{
			name:     "chargeback labels",
			span:     map[string]any{"team": "search"},
			resource: map[string]any{"usageledger.team": "support", "cost_center": "CC-7"},
			provider: "openai",
			want: identity{org: "default", connection: "unknown/openai",
				team: "support", costCenter: "CC-7"},
		},
		{
			name: "configured keys",
			reader: newIdentityReader(&Config{
				OrgKeys: []string{"customer"}, DefaultOrg: "none",
				AgentKeys: []string{"app"}, TeamKeys: []string{"squad"},
			}),
			span:     map[string]any{"customer": "initech", "tenant.id": "ignored", "squad": "red"},
			resource: map[string]any{"app": "crm", "service.name": "ignored"},
			provider: "openai",
			want:     identity{org: "initech", connection: "crm/openai", team: "red"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := tt.reader
			if reader.defaultOrg == "" {
				reader = defaults
			}
			span, resource := pcommon.NewMap(), pcommon.NewMap()
			require.NoError(t, span.FromRaw(tt.span))
			require.NoError(t, resource.FromRaw(tt.resource))
			assert.Equal(t, tt.want, reader.read(span, resource, tt.provider))
		})
	}
}
