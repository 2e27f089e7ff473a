package genaiusageprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestIdentityKeyFilter(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.TeamKeys = append(cfg.TeamKeys, "a.key.of.more.than.sixty.three.bytes.that.names.the.team.of.a.call")
	f := newIdentityKeyFilter(cfg)

	may := func(keys ...string) bool {
		attrs := pcommon.NewMap()
		for _, k := range keys {
			attrs.PutStr(k, "x")
		}
		return f.mayHoldIdentity(attrs)
	}
	// Every configured key passes, alone or among others.
	for _, keys := range [][]string{
		cfg.OrgKeys, cfg.ConnectionKeys, cfg.AgentKeys, cfg.TeamKeys, cfg.CostCenterKeys,
	} {
		for _, key := range keys {
			assert.True(t, may(key), key)
			assert.True(t, may("gen_ai.request.model", key), key)
		}
	}
	// A longer key than 63 bytes shares the bit of every such key.
	assert.True(t, may("a.key.of.more.than.sixty.three.bytes.that.names.anything.else.at.all"))
	// The attributes of an OpenAI chat span: none has the first byte and
	// length of an identity key (gen_ai.agent.name has 17 bytes, the
	// gen_ai.* keys here 20 or more; service.name 12, server.address 14).
	assert.False(t, may("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
		"gen_ai.response.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
		"gen_ai.response.finish_reasons", "server.address"))
	assert.False(t, may())
}

// TestIdentityPerResourceAndTarget runs calls of two resources and two
// targets through one request, spans with and without identity keys of
// their own, and checks each call's identity as the rules give it: the
// span's value first, then the resource's, the connection named
// <agent>/<target> when no key names it.
func TestIdentityPerResourceAndTarget(t *testing.T) {
	td := ptrace.NewTraces()
	addResource := func(service, tenant string) ptrace.SpanSlice {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		rs.Resource().Attributes().PutStr("tenant.id", tenant)
		return rs.ScopeSpans().AppendEmpty().Spans()
	}
	var n byte
	addCall := func(spans ptrace.SpanSlice, provider string, extra map[string]any) {
		n++
		span := spans.AppendEmpty()
		span.SetSpanID(pcommon.SpanID{n})
		span.SetTraceID(pcommon.TraceID{n})
		span.SetKind(ptrace.SpanKindClient)
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		attrs := map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
			"gen_ai.request.model": "some-model",
		}
		for k, v := range extra {
			attrs[k] = v
		}
		require.NoError(t, span.Attributes().FromRaw(attrs))
	}
	bot := addResource("support-bot", "acme")
	addCall(bot, "openai", nil)
	addCall(bot, "anthropic", nil)
	addCall(bot, "openai", map[string]any{"tenant.id": "globex"})
	addCall(bot, "openai", map[string]any{"gen_ai.agent.name": "triage"})
	addCall(bot, "openai", nil)
	addCall(bot, "anthropic", map[string]any{"team": "payments"})
	addCall(bot, "anthropic", nil)
	agent := addResource("research-agent", "initech")
	addCall(agent, "openai", nil)
	addCall(agent, "openai", map[string]any{"usageledger.connection": "shared-key"})
	addCall(agent, "openai", nil)
	again := addResource("support-bot", "umbrella")
	addCall(again, "openai", nil)

	p := newTestProcessor(t, nil)
	_, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)

	type who struct{ org, connection, team string }
	var got []who
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			attrs := spans.At(j).Attributes()
			org, _ := attrs.Get("usageledger.org")
			conn, _ := attrs.Get("usageledger.connection")
			team := ""
			if v, ok := attrs.Get("usageledger.team"); ok {
				team = v.Str()
			}
			got = append(got, who{org.Str(), conn.Str(), team})
		}
	}
	assert.Equal(t, []who{
		{"acme", "support-bot/openai", ""},
		{"acme", "support-bot/anthropic", ""},
		{"globex", "support-bot/openai", ""},
		{"acme", "triage/openai", ""},
		{"acme", "support-bot/openai", ""},
		{"acme", "support-bot/anthropic", "payments"},
		{"acme", "support-bot/anthropic", ""},
		{"initech", "research-agent/openai", ""},
		{"initech", "shared-key", ""},
		{"initech", "research-agent/openai", ""},
		{"umbrella", "support-bot/openai", ""},
	}, got)
}
