package genaiusageprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadatatest"
)

func TestIsCall(t *testing.T) {
	tests := []struct {
		name  string
		kind  ptrace.SpanKind
		attrs map[string]any
		want  bool
	}{
		{"chat", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "chat"}, true},
		{"generate_content", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "generate_content"}, true},
		{"text_completion", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "text_completion"}, true},
		{"embeddings", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "embeddings"}, true},
		{"in-process model", ptrace.SpanKindInternal, map[string]any{"gen_ai.operation.name": "chat"}, true},
		{"remote agent", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "invoke_agent"}, true},
		{"in-process agent sums its children", ptrace.SpanKindInternal,
			map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 10}, false},
		{"execute_tool", ptrace.SpanKindInternal, map[string]any{"gen_ai.operation.name": "execute_tool"}, true},
		{"create_agent", ptrace.SpanKindClient, map[string]any{"gen_ai.operation.name": "create_agent"}, false},
		{"invoke_workflow", ptrace.SpanKindInternal, map[string]any{"gen_ai.operation.name": "invoke_workflow"}, false},
		{"older span with gen_ai.system", ptrace.SpanKindClient,
			map[string]any{"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini"}, true},
		{"older span with provider and response model", ptrace.SpanKindInternal,
			map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini"}, true},
		{"provider without model", ptrace.SpanKindClient, map[string]any{"gen_ai.system": "openai"}, false},
		{"model without provider", ptrace.SpanKindClient, map[string]any{"gen_ai.request.model": "gpt-4o"}, false},
		{"empty provider", ptrace.SpanKindClient,
			map[string]any{"gen_ai.system": "", "gen_ai.request.model": "gpt-4o"}, false},
		{"HTTP span", ptrace.SpanKindClient, map[string]any{"http.request.method": "POST"}, false},
		{"no attributes", ptrace.SpanKindClient, map[string]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, span := newTraces(t, spanSpec{kind: tt.kind, attrs: tt.attrs})
			assert.Equal(t, tt.want, callKind(span, attributeFamilies(span.Attributes()), true) != "")
		})
	}
}

func TestIgnoredSpanUntouched(t *testing.T) {
	p := newTestProcessor(t, nil)
	for _, attrs := range []map[string]any{
		{"http.request.method": "POST", "gen_ai.usage.input_tokens": -5},
		{"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 500},
		{"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage"},
	} {
		s := spanSpec{kind: ptrace.SpanKindInternal, attrs: attrs, resource: map[string]any{"tenant.id": "acme"}}
		got, _ := newTraces(t, s)
		want := ptrace.NewTraces()
		got.CopyTo(want)
		_, err := p.processTraces(context.Background(), got)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func TestCountedCallAttributes(t *testing.T) {
	p := newTestProcessor(t, nil)
	res := map[string]any{"service.name": "support-bot", "tenant.id": "acme", "team": "support"}

	tests := []struct {
		name   string
		spec   spanSpec
		want   map[string]any
		absent []string
	}{
		{
			name: "priced chat",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
			})},
			want: map[string]any{
				usage.AttrCounted: true, usage.AttrOrg: "acme", usage.AttrConnection: "support-bot/openai",
				usage.AttrTeam: "support", usage.AttrOutcome: "ok", usage.AttrProvider: "openai",
				usage.AttrModel: "gpt-4o-mini", usage.AttrInputTokens: int64(120),
				usage.AttrOutputTokens: int64(30),
				// 120×150,000 + 30×600,000 = 36,000,000 pUSD = $0.000036.
				usage.AttrCostPicoUSD: int64(36_000_000), usage.AttrCostUSD: 0.000036,
			},
			absent: []string{
				usage.AttrCostCenter, usage.AttrCacheReadTokens, usage.AttrCacheWriteTokens,
				usage.AttrReasoningTokens, usage.AttrFiltered, usage.AttrUnpriced,
				usage.AttrUsageMissing, usage.AttrMalformed,
			},
		},
		{
			name: "cached and reasoning tokens stay inside their totals",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.usage.input_tokens": 17903, "gen_ai.usage.cache_read.input_tokens": 17817,
				"gen_ai.usage.output_tokens": 1970, "gen_ai.usage.reasoning.output_tokens": 956,
			})},
			want: map[string]any{
				// Input stays 17,903 (not 17,903+17,817 = 35,720); output stays 1,970.
				usage.AttrInputTokens: int64(17903), usage.AttrCacheReadTokens: int64(17817),
				usage.AttrOutputTokens: int64(1970), usage.AttrReasoningTokens: int64(956),
				// 86×150,000 + 17,817×75,000 + 1,970×600,000
				// = 12,900,000 + 1,336,275,000 + 1,182,000,000 = 2,531,175,000.
				usage.AttrCostPicoUSD: int64(2_531_175_000),
			},
			absent: []string{usage.AttrCacheWriteTokens},
		},
		{
			name: "anthropic with cache writes",
			spec: spanSpec{resource: res, attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
				"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.model": "claude-sonnet-4-5-20250929",
				"gen_ai.usage.input_tokens": 800, "gen_ai.usage.cache_read.input_tokens": 400,
				"gen_ai.usage.cache_creation.input_tokens": 300, "gen_ai.usage.output_tokens": 25,
			}},
			want: map[string]any{
				usage.AttrConnection: "support-bot/anthropic", usage.AttrModel: "claude-sonnet-4-5",
				usage.AttrCacheWriteTokens: int64(300),
				// 100×3,000,000 + 400×300,000 + 300×3,750,000 + 25×15,000,000 = 1,920,000,000.
				usage.AttrCostPicoUSD: int64(1_920_000_000), usage.AttrCostUSD: 0.00192,
			},
		},
		{
			name: "unknown model is unpriced, never guessed",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.request.model": "gpt-4o-mini-filter", "gen_ai.usage.input_tokens": 120,
			})},
			want:   map[string]any{usage.AttrModel: "gpt-4o-mini-filter", usage.AttrUnpriced: true},
			absent: []string{usage.AttrCostPicoUSD, usage.AttrCostUSD},
		},
		{
			name: "same model from another provider is unpriced",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.provider.name": "my-gateway", "gen_ai.usage.input_tokens": 1,
			})},
			want:   map[string]any{usage.AttrProvider: "my-gateway", usage.AttrUnpriced: true},
			absent: []string{usage.AttrCostPicoUSD},
		},
		{
			name: "ok call without usage",
			spec: spanSpec{resource: res, attrs: chat(nil)},
			want: map[string]any{
				usage.AttrUsageMissing: true, usage.AttrCostPicoUSD: int64(0),
			},
			absent: []string{usage.AttrInputTokens, usage.AttrOutputTokens},
		},
		{
			name: "blocked call costs 0 and is not unpriced",
			spec: spanSpec{resource: res, status: ptrace.StatusCodeError,
				message: "400 Request blocked by guardrail policy",
				attrs:   chat(map[string]any{"gen_ai.request.model": "gpt-4o-mini-blocked"})},
			want: map[string]any{
				usage.AttrOutcome: "blocked", usage.AttrCostPicoUSD: int64(0), usage.AttrCostUSD: 0.0,
				usage.AttrModel: "gpt-4o-mini-blocked",
			},
			absent: []string{usage.AttrUnpriced, usage.AttrUsageMissing},
		},
		{
			name: "failed call of an unknown model is unpriced",
			spec: spanSpec{resource: res, status: ptrace.StatusCodeError, message: "500 upstream",
				attrs: chat(map[string]any{"gen_ai.request.model": "mystery"})},
			want:   map[string]any{usage.AttrOutcome: "error", usage.AttrUnpriced: true},
			absent: []string{usage.AttrUsageMissing},
		},
		{
			name: "no provider and no model",
			spec: spanSpec{attrs: map[string]any{"gen_ai.operation.name": "chat"}},
			want: map[string]any{
				usage.AttrProvider: "unknown", usage.AttrModel: "unknown", usage.AttrOrg: "default",
				usage.AttrConnection: "unknown/unknown", usage.AttrUnpriced: true,
				usage.AttrUsageMissing: true,
			},
		},
		{
			name: "malformed value is ignored and flagged",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.usage.input_tokens": -120, "gen_ai.usage.output_tokens": 30,
			})},
			want: map[string]any{
				usage.AttrMalformed: true, usage.AttrInputTokens: int64(0), usage.AttrOutputTokens: int64(30),
				// 30×600,000 = 18,000,000.
				usage.AttrCostPicoUSD: int64(18_000_000),
			},
		},
		{
			name: "unreadable value under a standard name is replaced by the normalized count",
			spec: spanSpec{resource: res, attrs: chat(map[string]any{
				"gen_ai.usage.input_tokens": 50, "gen_ai.usage.cache_read.input_tokens": []any{"20"},
			})},
			want: map[string]any{
				usage.AttrMalformed: true, usage.AttrInputTokens: int64(50),
				usage.AttrCacheReadTokens: int64(0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := process(t, p, tt.spec)
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tt.absent {
				assert.NotContains(t, got, k)
			}
		})
	}
}

func TestPricedAtEndTime(t *testing.T) {
	table, err := pricing.Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, effective: 2026-01-01, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
  - {provider: openai, model: m, effective: 2026-12-03, input: 2, output: 2,
     source: {url: https://example.com, read: 2026-12-01}}
`))
	require.NoError(t, err)
	p := newTestProcessor(t, nil)
	p.prices = table

	// testEnd is on 2026-12-03: 10 input tokens at 2,000,000 pUSD = 20,000,000.
	got := process(t, p, spanSpec{attrs: chat(map[string]any{
		"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 10,
	})})
	assert.Equal(t, int64(20_000_000), got[usage.AttrCostPicoUSD])
}

func TestPricedAt(t *testing.T) {
	at := func(start, end time.Time) ptrace.Span {
		span := ptrace.NewSpan()
		if !start.IsZero() {
			span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		}
		if !end.IsZero() {
			span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		}
		return span
	}
	now := testEnd.Add(time.Hour)
	f := func(span ptrace.Span, want time.Time, wantNotAtEnd bool) {
		t.Helper()
		got, notAtEnd := pricedAt(span, now)
		assert.True(t, want.Equal(got), "priced at %s, want %s", got, want)
		assert.Equal(t, wantNotAtEnd, notAtEnd)
	}
	start := testEnd.Add(-time.Second)
	// At its end, however late, and up to 5 minutes ahead of now.
	f(at(start, testEnd), testEnd, false)
	f(at(start, now.Add(5*time.Minute)), now.Add(5*time.Minute), false)
	f(at(time.Time{}, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), false)
	// Otherwise now, as the ledger books it: no end (its start does not
	// stand in), an end before 2000, or a clock running ahead.
	f(at(start, time.Time{}), now, true)
	f(at(time.Time{}, time.Time{}), now, true)
	f(at(time.Time{}, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)), now, true)
	f(at(start, now.Add(5*time.Minute+time.Nanosecond)), now, true)
}

// A span whose clock runs 40 days ahead, across a price change, is priced
// at the price of the moment it is seen, and says when that was, so that
// the ledger books it in the month that price belongs to.
func TestFutureSpanPricedWhenSeen(t *testing.T) {
	seen := time.Now()
	change := seen.AddDate(0, 0, 30).UTC().Format(time.DateOnly)
	table, err := pricing.Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, effective: 2026-01-01, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
  - {provider: openai, model: m, effective: ` + change + `, input: 100, output: 100,
     source: {url: https://example.com, read: 2026-12-01}}
`))
	require.NoError(t, err)
	p := newTestProcessor(t, nil)
	p.prices = table

	future := spanSpec{attrs: chat(map[string]any{"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 10}),
		end: seen.AddDate(0, 0, 40)}
	before := time.Now()
	got := process(t, p, future)
	after := time.Now()
	// 10 input tokens at $1 per million: 10,000,000 pUSD, not 100 times that.
	assert.Equal(t, int64(10_000_000), got[usage.AttrCostPicoUSD])
	require.IsType(t, int64(0), got[usage.AttrPricedAt])
	pricedAt := time.Unix(0, got[usage.AttrPricedAt].(int64))
	assert.False(t, pricedAt.Before(before) || pricedAt.After(after), "priced at %s, seen between %s and %s", pricedAt, before, after)

	// A span that ends when it says carries no such attribute.
	got = process(t, p, spanSpec{attrs: chat(map[string]any{"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 10})})
	assert.NotContains(t, got, usage.AttrPricedAt)
}

func TestCostOverflowIsMalformed(t *testing.T) {
	// 1e9 output tokens at 1e12 pUSD ($1e6 per million) each is 1e21 pUSD,
	// more than an int64 holds.
	table, err := pricing.Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, effective: 2020-01-01, input: 1, output: 1000000,
     source: {url: https://example.com, read: 2020-01-01}}
`))
	require.NoError(t, err)
	p := newTestProcessor(t, nil)
	p.prices = table

	got := process(t, p, spanSpec{attrs: chat(map[string]any{
		"gen_ai.request.model": "m", "gen_ai.usage.output_tokens": 1_000_000_000,
	})})
	assert.Equal(t, true, got[usage.AttrMalformed])
	assert.Equal(t, true, got[usage.AttrUnpriced])
	assert.NotContains(t, got, usage.AttrCostPicoUSD)
	assert.Equal(t, int64(1_000_000_000), got[usage.AttrOutputTokens])
}

func TestAlreadyCountedPassesUnchanged(t *testing.T) {
	p := newTestProcessor(t, nil)
	// A collector in front already counted this span; its values are trusted
	// even though they would not be derived again the same way here.
	s := spanSpec{attrs: chat(map[string]any{
		usage.AttrCounted: true, usage.AttrOrg: "upstream-org", usage.AttrConnection: "bot/openai",
		usage.AttrOutcome: "ok", usage.AttrModel: "gpt-4o-mini",
		"gen_ai.usage.input_tokens": 7, "gen_ai.usage.cache_read.input_tokens": 99,
	})}
	got, _ := newTraces(t, s)
	want := ptrace.NewTraces()
	got.CopyTo(want)
	_, err := p.processTraces(context.Background(), got)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// A counted mark without the organization, connection, outcome and model a
// collector writes beside it is no collector's, even trusted: a call is
// derived again (gpt-4o at $2.50 per million input tokens: 1,000 tokens
// cost 2,500,000,000 pUSD), and a span that is no call loses the mark, so
// that the exporter does not book it under empty names. Each case takes
// one name away from the whole set, or spoils it.
func TestIncompleteCountedMarksAreNotTrusted(t *testing.T) {
	p := newTestProcessor(t, nil)
	require.True(t, p.cfg.TrustCountedSpans)
	whole := func() map[string]any {
		return map[string]any{
			usage.AttrCounted: true, usage.AttrOrg: "victim", usage.AttrConnection: "victim-bot/openai",
			usage.AttrOutcome: "ok", usage.AttrModel: "gpt-4o",
		}
	}
	call := func(marks map[string]any) map[string]any {
		attrs := chat(marks)
		attrs["gen_ai.request.model"] = "gpt-4o"
		attrs["gen_ai.usage.input_tokens"] = 1000
		attrs["gen_ai.usage.output_tokens"] = 0
		return process(t, p, spanSpec{
			resource: map[string]any{"service.name": "bot", "tenant.id": "acme"},
			attrs:    attrs,
		})
	}

	// The whole set is trusted: the call passes as it came.
	assert.Equal(t, "victim", call(whole())[usage.AttrOrg])

	spoil := map[string]func(m map[string]any){}
	for _, name := range []string{usage.AttrOrg, usage.AttrConnection, usage.AttrOutcome, usage.AttrModel} {
		spoil["without "+name] = func(m map[string]any) { delete(m, name) }
		spoil[name+" empty"] = func(m map[string]any) { m[name] = "" }
		spoil[name+" not a string"] = func(m map[string]any) { m[name] = int64(7) }
	}
	spoil["counted false"] = func(m map[string]any) { m[usage.AttrCounted] = false }
	spoil["counted a string"] = func(m map[string]any) { m[usage.AttrCounted] = "true" }
	for name, f := range spoil {
		marks := whole()
		f(marks)
		got := call(marks)
		// usageledger.connection is one of connection_keys, so it names
		// the connection of a derived call too; the organization and the
		// cost are derived afresh.
		assert.Equal(t, "acme", got[usage.AttrOrg], name)
		assert.Equal(t, int64(2_500_000_000), got[usage.AttrCostPicoUSD], name)
		assert.Equal(t, true, got[usage.AttrCounted], name)

		marks = whole()
		f(marks)
		marks["http.route"] = "/"
		notACall := process(t, p, spanSpec{attrs: marks})
		assert.NotContains(t, notACall, usage.AttrCounted, name)
	}

	// The first copy of a repeated mark is the one read, as the exporter
	// reads it: an empty organization first is no organization.
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(`{"resourceSpans": [{"scopeSpans": [{"spans": [{
		"traceId": "01000000000000000000000000000000", "spanId": "0100000000000000", "name": "route",
		"attributes": [
			{"key": "usageledger.counted", "value": {"boolValue": true}},
			{"key": "usageledger.org", "value": {"stringValue": ""}},
			{"key": "usageledger.org", "value": {"stringValue": "victim"}},
			{"key": "usageledger.connection", "value": {"stringValue": "x/openai"}},
			{"key": "usageledger.outcome", "value": {"stringValue": "ok"}},
			{"key": "usageledger.model", "value": {"stringValue": "gpt-4o"}}
		]}]}]}]}`))
	require.NoError(t, err)
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	_, counted := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get(usage.AttrCounted)
	assert.False(t, counted)
}

// Marks a client set under usageledger. on a span the processor counts
// are not its own: an adjusted count of a billion, a priced-at instant, an
// unpriced flag and a cost all give way to what the span derives, and only
// the identity the configuration reads there (usageledger.connection)
// stands. gpt-4o-mini at $0.15 per million input tokens: 1,000 tokens cost
// 150,000,000 pUSD.
func TestForgedMarksGiveWay(t *testing.T) {
	p := newTestProcessor(t, nil)
	got := process(t, p, spanSpec{
		resource: map[string]any{"service.name": "bot", "tenant.id": "acme"},
		attrs: chat(map[string]any{
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 0,
			usage.AttrConnection:    "named/by-client",
			usage.AttrAdjustedCount: 1e9, usage.AttrSampled: true,
			usage.AttrPricedAt: int64(1), usage.AttrUnpriced: true,
			usage.AttrCostPicoUSD: int64(999), "usageledger.anything": "x",
		}),
	})
	assert.Equal(t, true, got[usage.AttrCounted])
	assert.Equal(t, "named/by-client", got[usage.AttrConnection])
	assert.Equal(t, "acme", got[usage.AttrOrg])
	assert.Equal(t, int64(150_000_000), got[usage.AttrCostPicoUSD])
	for _, key := range []string{usage.AttrAdjustedCount, usage.AttrSampled, usage.AttrPricedAt, usage.AttrUnpriced, "usageledger.anything"} {
		assert.NotContains(t, got, key)
	}
}

// With trust_counted_spans: false, a span that says a collector counted it
// is derived again, its client's marks replaced: the organization is the
// resource's and the cost the price table's, not the ones it carried.
func TestUntrustedCountedSpanIsDerived(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.TrustCountedSpans = false
	p := newTestProcessor(t, cfg)
	forged := spanSpec{
		resource: map[string]any{"service.name": "bot", "tenant.id": "attacker"},
		attrs: chat(map[string]any{
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 0,
			usage.AttrCounted: true, usage.AttrOrg: "victim", usage.AttrConnection: "victim-bot/openai",
			usage.AttrModel: "gpt-4o", usage.AttrCostPicoUSD: int64(999_000_000_000_000),
			usage.AttrOutcome: "ok",
		}),
	}
	got := process(t, p, forged)
	assert.Equal(t, "attacker", got[usage.AttrOrg])
	assert.Equal(t, "gpt-4o-mini", got[usage.AttrModel])
	assert.Equal(t, int64(150_000_000), got[usage.AttrCostPicoUSD])

	// A forged duplicate mark does not hide the call either.
	hidden := forged
	hidden.attrs = chat(map[string]any{"gen_ai.usage.input_tokens": 1000, usage.AttrDuplicate: true})
	got = process(t, p, hidden)
	assert.Equal(t, true, got[usage.AttrCounted])
	assert.NotContains(t, got, usage.AttrDuplicate)

	// Trusted, as by default, the forged span passes as it came.
	got = process(t, newTestProcessor(t, nil), forged)
	assert.Equal(t, "victim", got[usage.AttrOrg])
}

// Untrusted, a span the processor does not count loses the counted and
// duplicate marks a client set, whatever made it no call here: the
// exporter counts every span marked counted, and a collector further on
// that counts more kinds of call, trusting marks, would take one marked
// duplicate as counted already. Its other attributes stay as they came.
func TestUntrustedUncountedSpansLoseTheirMark(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.TrustCountedSpans = false
	cfg.CountToolCalls = false
	p := newTestProcessor(t, cfg)
	forged := map[string]any{
		usage.AttrCounted: true, usage.AttrDuplicate: true, usage.AttrOrg: "victim",
		usage.AttrAdjustedCount: 1e9, "gen_ai.usage.input_tokens": 1_000_000,
	}
	for name, extra := range map[string]map[string]any{
		"only marks":           {},
		"in-process agent":     {"gen_ai.operation.name": "invoke_agent"},
		"unknown operation":    {"gen_ai.operation.name": "create_agent"},
		"aggregated usage":     {"gen_ai.operation.name": "chat", "gen_ai.aggregated_usage.input_tokens": 1},
		"openinference chain":  {"openinference.span.kind": "CHAIN"},
		"tool, tools not kept": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
	} {
		attrs := map[string]any{}
		for k, v := range forged {
			attrs[k] = v
		}
		for k, v := range extra {
			attrs[k] = v
		}
		got := process(t, p, spanSpec{kind: ptrace.SpanKindInternal, attrs: attrs})
		assert.NotContains(t, got, usage.AttrCounted, name)
		assert.NotContains(t, got, usage.AttrDuplicate, name)
		assert.Equal(t, "victim", got[usage.AttrOrg], name)
	}
}

// The counted mark repeated under one key, as OTLP allows and its
// receiver keeps, comes off in every copy.
func TestUntrustedRepeatedMarkComesOff(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.TrustCountedSpans = false
	p := newTestProcessor(t, cfg)
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(`{"resourceSpans": [{"scopeSpans": [{"spans": [{
		"traceId": "01000000000000000000000000000000", "spanId": "0100000000000000", "name": "agent",
		"attributes": [
			{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
			{"key": "usageledger.counted", "value": {"boolValue": true}},
			{"key": "usageledger.counted", "value": {"boolValue": true}},
			{"key": "usageledger.org", "value": {"stringValue": "victim"}}
		]}]}]}]}`))
	require.NoError(t, err)
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	_, counted := attrs.Get(usage.AttrCounted)
	assert.False(t, counted)
	assert.Equal(t, 2, attrs.Len(), "the operation and the organization are left")
}

// Two spans of one response in one request, the second with a forged
// counted mark: it is marked a duplicate, and its mark is gone, so that the
// exporter does not count it.
func TestUntrustedDuplicateLosesItsMarks(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.TrustCountedSpans = false
	p := newTestProcessor(t, cfg)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, extra := range []map[string]any{
		{"gen_ai.response.id": "resp-1", "gen_ai.usage.input_tokens": 10},
		{"gen_ai.response.id": "resp-1", "gen_ai.usage.input_tokens": 10, usage.AttrCounted: true, usage.AttrOrg: "victim"},
	} {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		s.SetKind(ptrace.SpanKindClient)
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		require.NoError(t, s.Attributes().FromRaw(chat(extra)))
	}
	_, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	first, second := spans.At(0).Attributes().AsRaw(), spans.At(1).Attributes().AsRaw()
	assert.Equal(t, true, first[usage.AttrCounted])
	assert.Equal(t, true, second[usage.AttrDuplicate])
	assert.NotContains(t, second, usage.AttrCounted)
	assert.NotContains(t, second, usage.AttrOrg)
}

func TestProcessTwiceIsIdempotent(t *testing.T) {
	p := newTestProcessor(t, nil)
	td, span := newTraces(t, spanSpec{
		resource: map[string]any{"service.name": "bot", "tenant.id": "acme"},
		attrs: chat(map[string]any{
			"gen_ai.usage.prompt_tokens": 100, "gen_ai.usage.cache_read.input_tokens": 150,
			"gen_ai.usage.output_tokens": "40", "gen_ai.usage.reasoning.output_tokens": 2.5,
		}),
	})
	_, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	first := span.Attributes().AsRaw()

	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	assert.Equal(t, first, span.Attributes().AsRaw())
	// The first pass read input 100, smaller than its cache reads 150, as
	// leaving them out (100 + 150 = 250) and ignored the fractional
	// reasoning count; the second pass trusts the counted span.
	assert.Equal(t, int64(250), first[usage.AttrInputTokens])
	assert.Equal(t, int64(40), first[usage.AttrOutputTokens])
	assert.Equal(t, true, first[usage.AttrMalformed])
}

// A condition that fails to evaluate on a span (Substring past the end of
// its value, or of no value) is taken as false and counted by setting; the
// setting's next condition is still tried. Two calls that report usage: on
// the first, the failing rate_limited condition is followed by one that
// holds, so the call is rate-limited; on the second, without x, the first
// fails and the second does not hold, and the blocked condition holds.
// The usage_estimated condition fails on both. So 2 failures of
// outcomes::rate_limited, none of outcomes::blocked, 2 of usage_estimated.
func TestConditionErrorsAreCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	prices, err := pricing.Builtin()
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	cfg.Outcomes.RateLimited = []string{
		`Substring(attributes["x"], 5, 10) == "a"`,
		`attributes["x"] == "ab"`,
	}
	cfg.Outcomes.Blocked = []string{`attributes["verdict"] == "deny"`}
	cfg.UsageEstimated = []string{`Substring(attributes["gen_ai.request.model"], 50, 1) == "a"`}
	p, err := newUsageProcessor(metadatatest.NewSettings(tel), cfg, prices)
	require.NoError(t, err)

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	require.NoError(t, spans.AppendEmpty().Attributes().FromRaw(chat(map[string]any{
		"x": "ab", "gen_ai.usage.input_tokens": 10,
	})))
	require.NoError(t, spans.AppendEmpty().Attributes().FromRaw(chat(map[string]any{
		"verdict": "deny", "gen_ai.usage.input_tokens": 10,
	})))
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	require.NoError(t, p.shutdown(context.Background()))

	outcome := func(i int) any {
		v, _ := spans.At(i).Attributes().Get(usage.AttrOutcome)
		return v.AsRaw()
	}
	assert.Equal(t, "rate_limited", outcome(0))
	assert.Equal(t, "blocked", outcome(1))
	metadatatest.AssertEqualProcessorGenaiusageConditionErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("setting", "outcomes::rate_limited"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("setting", "usage_estimated"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestSelfMetrics(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	prices, err := pricing.Builtin()
	require.NoError(t, err)
	p, err := newUsageProcessor(metadatatest.NewSettings(tel), createDefaultConfig().(*Config), prices)
	require.NoError(t, err)

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	add := func(attrs map[string]any, status ptrace.StatusCode, message string) {
		s := spans.AppendEmpty()
		require.NoError(t, s.Attributes().FromRaw(attrs))
		s.Status().SetCode(status)
		s.Status().SetMessage(message)
	}
	add(chat(map[string]any{"gen_ai.usage.input_tokens": 1}), ptrace.StatusCodeUnset, "")
	add(chat(map[string]any{"gen_ai.usage.input_tokens": true}), ptrace.StatusCodeUnset, "")
	add(chat(map[string]any{"gen_ai.request.model": "nope"}), ptrace.StatusCodeUnset, "")
	add(chat(nil), ptrace.StatusCodeError, "429 Too Many Requests")
	add(map[string]any{"http.request.method": "GET"}, ptrace.StatusCodeUnset, "")
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)

	// A wrapper around a sampled call: one duplicate, one sampled call.
	td = ptrace.NewTraces()
	spans = td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	wrapper := spans.AppendEmpty()
	require.NoError(t, wrapper.Attributes().FromRaw(chat(map[string]any{"gen_ai.usage.input_tokens": 1})))
	wrapper.SetSpanID(pcommon.SpanID{1})
	inner := spans.AppendEmpty()
	require.NoError(t, inner.Attributes().FromRaw(chat(map[string]any{"gen_ai.usage.input_tokens": 1})))
	inner.SetSpanID(pcommon.SpanID{2})
	inner.SetParentSpanID(pcommon.SpanID{1})
	inner.TraceState().FromRaw("ot=th:8")
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	require.NoError(t, p.shutdown(context.Background()))

	// Five calls: four ok (one malformed, one unpriced, one sampled) and one
	// rate-limited; the HTTP span is not a call, the wrapper a duplicate.
	metadatatest.AssertEqualProcessorGenaiusageCallsCounted(t, tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: attribute.NewSet(attribute.String("outcome", "ok"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("outcome", "rate_limited"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiusageSpansMalformed(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiusageCallsUnpriced(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiusageSpansDuplicate(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorGenaiusageCallsSampled(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1},
	}, metricdatatest.IgnoreTimestamp())
}

func TestShutdownTwice(t *testing.T) {
	p := newTestProcessor(t, nil)
	require.NoError(t, p.shutdown(context.Background()))
}
