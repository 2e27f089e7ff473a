package genaiusageprocessor

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadatatest"
)

// newPricedProcessor returns a processor with the given span cost policy
// whose price table is the shipped one plus the price file text, if any.
func newPricedProcessor(t testing.TB, policy pricing.SpanCostPolicy, priceFile string) *usageProcessor {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Pricing.SpanCost = policy
	if priceFile != "" {
		path := filepath.Join(t.TempDir(), "prices.yaml")
		require.NoError(t, os.WriteFile(path, []byte(priceFile), 0o600))
		cfg.Pricing.Files = []string{path}
	}
	require.NoError(t, cfg.Pricing.Validate())
	prices, err := cfg.Pricing.load()
	require.NoError(t, err)
	p, err := newUsageProcessor(processortest.NewNopSettings(metadata.Type), cfg, prices)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p
}

// flexPrices adds a flex tier for gpt-4o-mini at half its standard $0.15
// input / $0.60 output per million tokens.
const flexPrices = `
version: 1
prices:
  - provider: openai
    model: gpt-4o-mini
    service_tier: flex
    effective: 2000-01-01
    input: 0.075
    output: 0.30
    source: {url: https://example.com/flex, read: 2026-12-01}
`

func TestServiceTierPricing(t *testing.T) {
	p := newPricedProcessor(t, "", flexPrices)
	// 1,000 input and 100 output tokens: standard 1,000×150,000 +
	// 100×600,000 = 210,000,000 pUSD; flex 1,000×75,000 + 100×300,000 =
	// 105,000,000 pUSD.
	const standard, flex = int64(210_000_000), int64(105_000_000)
	f := func(tiers map[string]any, want int64) {
		t.Helper()
		attrs := chat(map[string]any{
			"gen_ai.usage.input_tokens": int64(1000), "gen_ai.usage.output_tokens": int64(100),
		})
		for k, v := range tiers {
			attrs[k] = v
		}
		got := process(t, p, spanSpec{attrs: attrs})
		assert.Equal(t, want, got[usage.AttrCostPicoUSD], "%v", tiers)
		assert.Equal(t, "gpt-4o-mini", got[usage.AttrModel], "%v", tiers)
	}
	f(nil, standard)
	f(map[string]any{"openai.response.service_tier": "flex"}, flex)
	f(map[string]any{"gen_ai.openai.response.service_tier": "flex"}, flex)
	f(map[string]any{"openai.request.service_tier": "flex"}, flex)
	f(map[string]any{"openai.response.service_tier": " Flex "}, flex)
	// The tier that answered wins over the one asked for.
	f(map[string]any{"openai.request.service_tier": "flex", "openai.response.service_tier": "default"},
		standard)
	// A tier the table has no price for is charged the standard price.
	f(map[string]any{"openai.response.service_tier": "priority"}, standard)
	f(map[string]any{"openai.request.service_tier": "auto"}, standard)
	// A tier that is not a string is no tier.
	f(map[string]any{"openai.response.service_tier": int64(3)}, standard)
}

func TestOneHourCacheWritesAndWebSearches(t *testing.T) {
	p := newTestProcessor(t, nil)
	// A Vercel AI SDK call to Anthropic whose provider report splits the 300
	// cache writes into 100 five-minute and 200 one-hour ones and counts 2
	// web searches.
	const metadata = `{"anthropic":{"usage":{"input_tokens":100,"output_tokens":25,` +
		`"cache_creation_input_tokens":300,"cache_read_input_tokens":400,` +
		`"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},` +
		`"server_tool_use":{"web_search_requests":2}}}}`
	got := process(t, p, spanSpec{attrs: map[string]any{
		"ai.operationId":               "ai.generateText.doGenerate",
		"ai.model.provider":            "anthropic.messages",
		"ai.model.id":                  "claude-sonnet-4-5",
		"ai.usage.inputTokens":         int64(100),
		"ai.usage.outputTokens":        int64(25),
		"ai.response.providerMetadata": metadata,
	}})
	// claude-sonnet-4-5 per million: $3 input, $0.30 cache read, $3.75
	// cache write, $6 one-hour cache write, $15 output; $10 per thousand
	// searches. 100×3,000,000 + 400×300,000 + 100×3,750,000 +
	// 200×6,000,000 + 25×15,000,000 + 2×10,000,000,000 = 300,000,000 +
	// 120,000,000 + 375,000,000 + 1,200,000,000 + 375,000,000 +
	// 20,000,000,000 = 22,370,000,000.
	assert.Equal(t, int64(800), got[usage.AttrInputTokens])
	assert.Equal(t, int64(300), got[usage.AttrCacheWriteTokens])
	assert.Equal(t, int64(22_370_000_000), got[usage.AttrCostPicoUSD])
	assert.NotContains(t, got, usage.AttrMalformed)

	// One-hour writes without the total of writes stand for it: 200 writes,
	// all one-hour; input 100 + 200 = 300. 100×3,000,000 + 200×6,000,000 +
	// 25×15,000,000 = 300,000,000 + 1,200,000,000 + 375,000,000 =
	// 1,875,000,000.
	got = process(t, p, spanSpec{attrs: map[string]any{
		"ai.operationId":        "ai.generateText.doGenerate",
		"ai.model.provider":     "anthropic.messages",
		"ai.model.id":           "claude-sonnet-4-5",
		"ai.usage.inputTokens":  int64(100),
		"ai.usage.outputTokens": int64(25),
		"ai.response.providerMetadata": `{"anthropic":{"usage":{"input_tokens":100,"output_tokens":25,` +
			`"cache_creation":{"ephemeral_1h_input_tokens":200}}}}`,
	}})
	assert.Equal(t, int64(300), got[usage.AttrInputTokens])
	assert.Equal(t, int64(200), got[usage.AttrCacheWriteTokens])
	assert.Equal(t, int64(1_875_000_000), got[usage.AttrCostPicoUSD])

	// A count that is not one marks the usage malformed and is ignored: 300
	// cache writes at the five-minute rate, no searches = 1,920,000,000.
	got = process(t, p, spanSpec{attrs: map[string]any{
		"ai.operationId":    "ai.generateText.doGenerate",
		"ai.model.provider": "anthropic.messages",
		"ai.model.id":       "claude-sonnet-4-5",
		"ai.response.providerMetadata": `{"anthropic":{"usage":{"input_tokens":100,"output_tokens":25,` +
			`"cache_creation_input_tokens":300,"cache_read_input_tokens":400,` +
			`"cache_creation":{"ephemeral_1h_input_tokens":-5},"server_tool_use":{"web_search_requests":1.5}}}}`,
	}})
	assert.Equal(t, int64(1_920_000_000), got[usage.AttrCostPicoUSD])
	assert.Equal(t, true, got[usage.AttrMalformed])
}

func TestSpanCost(t *testing.T) {
	// gpt-4o-mini, 120 input and 30 output tokens: computed 120×150,000 +
	// 30×600,000 = 36,000,000 pUSD ($0.000036).
	call := func(extra map[string]any) spanSpec {
		attrs := chat(map[string]any{
			"gen_ai.usage.input_tokens": int64(120), "gen_ai.usage.output_tokens": int64(30),
		})
		for k, v := range extra {
			attrs[k] = v
		}
		return spanSpec{attrs: attrs}
	}
	type want struct {
		cost      any // nil when unpriced
		source    any // usageledger.cost_source
		diff      any // usageledger.cost_diff_picousd
		malformed bool
	}
	tests := []struct {
		name   string
		policy pricing.SpanCostPolicy
		span   spanSpec
		want   want
	}{
		{"computed by default, span cost ignored", "",
			call(map[string]any{"gen_ai.usage.cost": 0.5}), want{cost: int64(36_000_000)}},
		{"computed ignores an unreadable span cost", pricing.SpanCostComputed,
			call(map[string]any{"gen_ai.usage.cost": "lots"}), want{cost: int64(36_000_000)}},
		// $0.0001 = 100,000,000 pUSD.
		{"reported charges gen_ai.usage.cost", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.usage.cost": 0.0001}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		{"reported without a span cost charges the computed", pricing.SpanCostReported,
			call(nil), want{cost: int64(36_000_000)}},
		// $0.002 = 2,000,000,000 pUSD: a model the table does not know is
		// priced by its span.
		{"reported prices an unknown model", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.request.model": "in-house-7b", "llm.cost.total": 0.002}),
			want{cost: int64(2_000_000_000), source: usage.CostSourceReported}},
		// gen_ai.usage.cost $0.0001 wins over llm.cost.total $0.002.
		{"gen_ai.usage.cost first", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.usage.cost": 0.0001, "llm.cost.total": 0.002}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		{"LiteLLM v2", pricing.SpanCostReported,
			call(map[string]any{"litellm.cost.total": 0.0001}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		{"LiteLLM v1", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.cost.total_cost": 0.0001}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		{"pydantic-ai", pricing.SpanCostReported,
			call(map[string]any{"operation.cost": 0.0001}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		// A whole number of USD as an int, and a decimal string: $1 =
		// 1,000,000,000,000 pUSD; "0.0001" = 100,000,000.
		{"int USD", pricing.SpanCostReported, call(map[string]any{"gen_ai.usage.cost": int64(1)}),
			want{cost: int64(1_000_000_000_000), source: usage.CostSourceReported}},
		{"string USD", pricing.SpanCostReported, call(map[string]any{"gen_ai.usage.cost": "0.0001"}),
			want{cost: int64(100_000_000), source: usage.CostSourceReported}},
		{"reported negative cost is malformed, computed charged", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.usage.cost": -0.01}),
			want{cost: int64(36_000_000), malformed: true}},
		{"reported text is malformed", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.usage.cost": "lots"}),
			want{cost: int64(36_000_000), malformed: true}},
		{"reported bool is malformed", pricing.SpanCostReported,
			call(map[string]any{"llm.cost.total": true}),
			want{cost: int64(36_000_000), malformed: true}},
		// $10,000,000 is more than the ledger's 9.2 million USD.
		{"reported too large is malformed", pricing.SpanCostReported,
			call(map[string]any{"gen_ai.usage.cost": 1e7}),
			want{cost: int64(36_000_000), malformed: true}},
		// $0.00004 = 40,000,000 pUSD; 40,000,000 − 36,000,000 = 4,000,000.
		{"compare records the difference", pricing.SpanCostCompare,
			call(map[string]any{"gen_ai.usage.cost": 0.00004}),
			want{cost: int64(36_000_000), diff: int64(4_000_000)}},
		// $0.00003 = 30,000,000 pUSD; 30,000,000 − 36,000,000 = −6,000,000.
		{"compare, span reports less", pricing.SpanCostCompare,
			call(map[string]any{"llm.cost.total": 0.00003}),
			want{cost: int64(36_000_000), diff: int64(-6_000_000)}},
		{"compare, same cost", pricing.SpanCostCompare,
			call(map[string]any{"gen_ai.usage.cost": 0.000036}),
			want{cost: int64(36_000_000), diff: int64(0)}},
		{"compare, unpriced model is not compared", pricing.SpanCostCompare,
			call(map[string]any{"gen_ai.request.model": "in-house-7b", "gen_ai.usage.cost": 0.002}),
			want{}},
		{"compare, invalid span cost is malformed", pricing.SpanCostCompare,
			call(map[string]any{"gen_ai.usage.cost": -1.0}),
			want{cost: int64(36_000_000), malformed: true}},
		// A blocked call never reached the model: 0, whatever the span says.
		{"blocked costs 0", pricing.SpanCostReported, spanSpec{
			attrs:  chat(map[string]any{"gen_ai.usage.cost": 0.0001, "error.type": "content_filter"}),
			status: ptrace.StatusCodeError,
		}, want{cost: int64(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := process(t, newPricedProcessor(t, tt.policy, ""), tt.span)
			assert.Equal(t, tt.want.cost, got[usage.AttrCostPicoUSD])
			assert.Equal(t, tt.want.cost == nil, got[usage.AttrUnpriced] == true)
			assert.Equal(t, tt.want.source, got[usage.AttrCostSource])
			assert.Equal(t, tt.want.diff, got[usage.AttrCostDiffPicoUSD])
			assert.Equal(t, tt.want.malformed, got[usage.AttrMalformed] == true)
			if n, ok := tt.want.cost.(int64); ok {
				// gen_ai.usage.cost is replaced by the cost charged.
				assert.InDelta(t, float64(n)/usage.PicoUSDPerUSD, got[usage.AttrCostUSD], 1e-15)
			} else {
				// An unpriced call leaves the span's own cost as it was.
				assert.Equal(t, tt.span.attrs[usage.AttrCostUSD], got[usage.AttrCostUSD])
			}
		})
	}
}

func TestCostDiffersSelfMetric(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.Pricing.SpanCost = pricing.SpanCostCompare
	prices, err := pricing.Builtin()
	require.NoError(t, err)
	p, err := newUsageProcessor(metadatatest.NewSettings(tel), cfg, prices)
	require.NoError(t, err)

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, cost := range []float64{0.00004, 0.000036, 0.00003} {
		// Computed 36,000,000 pUSD each: two differ, one agrees.
		require.NoError(t, spans.AppendEmpty().Attributes().FromRaw(chat(map[string]any{
			"gen_ai.usage.input_tokens": int64(120), "gen_ai.usage.output_tokens": int64(30),
			"gen_ai.usage.cost": cost,
		})))
	}
	_, err = p.processTraces(context.Background(), td)
	require.NoError(t, err)
	require.NoError(t, p.shutdown(context.Background()))

	metadatatest.AssertEqualProcessorGenaiusageCallsCostDiffers(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2},
	}, metricdatatest.IgnoreTimestamp())
}

func TestStartLogsPriceDataset(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	prices, err := pricing.Builtin()
	require.NoError(t, err)
	p, err := newUsageProcessor(set, createDefaultConfig().(*Config), prices)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.shutdown(context.Background()))

	entries := logs.FilterMessage("GenAI usage processor configured").All()
	require.Len(t, entries, 1)
	fields := entries[0].ContextMap()
	// internal/pricing/prices.json was generated from this dataset.
	assert.Equal(t, "@pydantic/genai-prices 0.1.8", fields["price_dataset"])
	assert.Equal(t, "computed", fields["span_cost"])
	// Whether spans claiming a collector counted them are taken as they are
	// is said at start: the default, true, is for a collector behind another.
	assert.Equal(t, true, fields["trust_counted_spans"])
}

// BenchmarkCountedSpanComparedCost measures the calls of BenchmarkCountedSpan
// when they also report a service tier and a cost of their own that the
// processor compares with the computed one.
func BenchmarkCountedSpanComparedCost(b *testing.B) {
	p := newPricedProcessor(b, pricing.SpanCostCompare, flexPrices)
	runBatchesWith(b, p, func(_ int, _ ptrace.ResourceSpans, span ptrace.Span) {
		openAIChat(span)
		span.Attributes().PutStr("openai.response.service_tier", "flex")
		span.Attributes().PutDouble("gen_ai.usage.cost", 0.0021)
	})
}
