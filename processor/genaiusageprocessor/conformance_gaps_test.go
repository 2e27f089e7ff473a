package genaiusageprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// processInScope runs the default processor over one span built from s that
// came in the instrumentation scope named scope, and returns the span's
// attributes afterwards.
func processInScope(t *testing.T, scope string, s spanSpec) map[string]any {
	t.Helper()
	td, span := newTraces(t, s)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Scope().SetName(scope)
	_, err := newTestProcessor(t, nil).processTraces(context.Background(), td)
	require.NoError(t, err)
	return span.Attributes().AsRaw()
}

// openLLMetryAnthropic returns the usage attributes of a call as
// @traceloop/instrumentation-anthropic 0.27.0 records it
// (testdata/real-clients/openllmetry-anthropic.otlp.jsonl), with the given
// Anthropic input_tokens.
func openLLMetryAnthropic(input int64) map[string]any {
	return map[string]any{
		"gen_ai.provider.name":                     "anthropic",
		"gen_ai.operation.name":                    "chat",
		"gen_ai.request.model":                     "claude-sonnet-4-5",
		"gen_ai.response.model":                    "claude-sonnet-4-5",
		"gen_ai.usage.input_tokens":                input,
		"gen_ai.usage.output_tokens":               int64(25),
		"gen_ai.usage.total_tokens":                input + 25,
		"gen_ai.usage.cache_creation.input_tokens": int64(300),
		"gen_ai.usage.cache_read.input_tokens":     int64(400),
	}
}

func TestAnthropicInputWithoutCache(t *testing.T) {
	tests := []struct {
		name      string
		scope     string
		attrs     map[string]any
		wantInput int64
		wantCost  int64
	}{
		{
			// The recorded span: input_tokens 100 beside 400 cache reads and 300
			// cache writes, total 125 = 100 + 25. Input = 100 + 400 + 300 = 800;
			// cost 100×3,000,000 + 400×300,000 + 300×3,750,000 + 25×15,000,000
			// = 1,920,000,000 pUSD.
			name: "OpenLLMetry JS, recorded", scope: "@traceloop/instrumentation-anthropic",
			attrs: openLLMetryAnthropic(100), wantInput: 800, wantCost: 1_920_000_000,
		},
		{
			// The same span from another scope: 100 is smaller than the 700 it
			// would include, so it leaves the cache out all the same.
			name: "any dialect, input smaller than its cache", scope: "some-instrumentation",
			attrs: openLLMetryAnthropic(100), wantInput: 800, wantCost: 1_920_000_000,
		},
		{
			// Anthropic input_tokens 1,000, larger than the cache: only the
			// library's scope tells it leaves the cache out. Input = 1,000 + 700
			// = 1,700; cost 1,000×3,000,000 + 400×300,000 + 300×3,750,000 +
			// 25×15,000,000 = 3,000,000,000 + 120,000,000 + 1,125,000,000 +
			// 375,000,000 = 4,620,000,000.
			name: "OpenLLMetry JS, input larger than its cache", scope: "@traceloop/instrumentation-anthropic",
			attrs: openLLMetryAnthropic(1000), wantInput: 1700, wantCost: 4_620_000_000,
		},
		{
			// The semantic conventions' inclusive input 1,000 from any other
			// scope stays 1,000: (1,000−700)×3,000,000 + 400×300,000 +
			// 300×3,750,000 + 25×15,000,000 = 900,000,000 + 120,000,000 +
			// 1,125,000,000 + 375,000,000 = 2,520,000,000.
			name: "semantic conventions, inclusive input", scope: "opentelemetry.instrumentation.anthropic",
			attrs: openLLMetryAnthropic(1000), wantInput: 1000, wantCost: 2_520_000_000,
		},
		{
			// OpenInference's llm.token_count.prompt already adds the cache:
			// 800 stays 800 (testdata/real-clients/openinference-anthropic).
			name: "OpenInference, inclusive", scope: "@arizeai/openinference-instrumentation-anthropic",
			attrs: map[string]any{
				"openinference.span.kind":                    "LLM",
				"llm.provider":                               "anthropic",
				"llm.model_name":                             "claude-sonnet-4-5",
				"llm.token_count.prompt":                     int64(800),
				"llm.token_count.completion":                 int64(25),
				"llm.token_count.total":                      int64(825),
				"llm.token_count.prompt_details.cache_write": int64(300),
				"llm.token_count.prompt_details.cache_read":  int64(400),
			},
			wantInput: 800, wantCost: 1_920_000_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := processInScope(t, tt.scope, spanSpec{attrs: tt.attrs})
			assert.Equal(t, tt.wantInput, got[usage.AttrInputTokens])
			assert.Equal(t, int64(400), got[usage.AttrCacheReadTokens])
			assert.Equal(t, int64(300), got[usage.AttrCacheWriteTokens])
			assert.Equal(t, int64(25), got[usage.AttrOutputTokens])
			assert.Equal(t, tt.wantCost, got[usage.AttrCostPicoUSD])
			assert.NotContains(t, got, usage.AttrMalformed)
		})
	}
}

func TestOpenInferenceEmbeddingModel(t *testing.T) {
	// The recorded EMBEDDING span of @arizeai/openinference-instrumentation-openai
	// 4.2.7 names its model only in embedding.model_name and reports no tokens:
	// priced as text-embedding-3-small at 0 tokens, cost 0, usage missing.
	got := processInScope(t, "@arizeai/openinference-instrumentation-openai", spanSpec{
		kind: ptrace.SpanKindInternal, // as recorded
		attrs: map[string]any{
			"openinference.span.kind": "EMBEDDING",
			"embedding.model_name":    "text-embedding-3-small",
			"llm.system":              "openai",
			"input.value":             "monthly usage per connection",
		},
	})
	assert.Equal(t, string(usage.CallEmbedding), got[usage.AttrCallKind])
	assert.Equal(t, "text-embedding-3-small", got[usage.AttrModel])
	assert.Equal(t, int64(0), got[usage.AttrCostPicoUSD])
	assert.NotContains(t, got, usage.AttrUnpriced)
	assert.Equal(t, true, got[usage.AttrUsageMissing])

	// llm.model_name, the responding model, wins where both are present.
	got = processInScope(t, "", spanSpec{attrs: map[string]any{
		"openinference.span.kind": "EMBEDDING",
		"llm.model_name":          "text-embedding-3-large",
		"embedding.model_name":    "text-embedding-3-small",
		"llm.system":              "openai",
	}})
	assert.Equal(t, "text-embedding-3-large", got[usage.AttrModel])
}

func TestOpenInferenceFinishReason(t *testing.T) {
	// The recorded span of the filtered call: llm.finish_reason is one string.
	span := func(reason string) spanSpec {
		return spanSpec{attrs: map[string]any{
			"openinference.span.kind":    "LLM",
			"llm.model_name":             "gpt-4o-mini",
			"llm.system":                 "openai",
			"llm.finish_reason":          reason,
			"llm.token_count.prompt":     int64(120),
			"llm.token_count.completion": int64(30),
		}}
	}
	f := func(reason string, wantFiltered bool) {
		t.Helper()
		got := processInScope(t, "@arizeai/openinference-instrumentation-openai", span(reason))
		assert.Equal(t, "ok", got[usage.AttrOutcome], reason)
		assert.Equal(t, wantFiltered, got[usage.AttrFiltered] == true, reason)
		// The model ran and is billed: 120×150,000 + 30×600,000 = 36,000,000.
		assert.Equal(t, int64(36_000_000), got[usage.AttrCostPicoUSD], reason)
	}
	f("content_filter", true)
	f("CONTENT_FILTER", true)
	f("stop", false)
	f("end_turn", false)
	f("", false)

	// Only an OpenInference span is read for llm.finish_reason; a semantic
	// conventions span says it in gen_ai.response.finish_reasons.
	got := process(t, newTestProcessor(t, nil), spanSpec{attrs: chat(map[string]any{
		"gen_ai.response.finish_reasons": []any{"content_filter"},
		"gen_ai.usage.input_tokens":      int64(120), "gen_ai.usage.output_tokens": int64(30),
	})})
	assert.Equal(t, true, got[usage.AttrFiltered])
}
