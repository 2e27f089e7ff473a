package genaiusageprocessor

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/pricing"
)

func TestParseCount(t *testing.T) {
	f := func(raw any, want int64, wantOK bool) {
		t.Helper()
		v := pcommon.NewValueEmpty()
		require.NoError(t, v.FromRaw(raw))
		got, ok := parseCount(v)
		assert.Equal(t, wantOK, ok, "%#v", raw)
		if wantOK {
			assert.Equal(t, want, got, "%#v", raw)
		}
	}
	// Readable counts.
	f(int64(0), 0, true)
	f(int64(120), 120, true)
	f(int64(1_000_000_000), 1_000_000_000, true)
	f(120.0, 120, true)
	f(1e9, 1_000_000_000, true)
	f("120", 120, true)
	f("0", 0, true)
	// Everything else is not a count.
	f(int64(-1), 0, false)
	f(int64(1_000_000_001), 0, false)
	f(int64(math.MaxInt64), 0, false)
	f(12.5, 0, false)
	f(-3.0, 0, false)
	f(1e9+1, 0, false)
	f(math.NaN(), 0, false)
	f(math.Inf(1), 0, false)
	f("12.5", 0, false)
	f("-4", 0, false)
	f("+1000", 0, false)
	f("-0", 0, false)
	f("1e3", 0, false)
	f(" 12", 0, false)
	f("many", 0, false)
	f("", 0, false)
	f("99999999999999999999", 0, false)
	f(true, 0, false)
	f([]any{int64(1)}, 0, false)
	f(map[string]any{"n": int64(1)}, 0, false)
	f([]byte{1}, 0, false)
	f(nil, 0, false)
}

func TestReadUsage(t *testing.T) {
	tests := []struct {
		name          string
		attrs         map[string]any
		want          pricing.Tokens
		wantUsage     bool
		wantMalformed bool
	}{
		{
			name: "cache reads are already inside input",
			// 17,903 reported input includes the 17,817 cache reads: 17,903, not 35,720.
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": 17903, "gen_ai.usage.cache_read.input_tokens": 17817,
			},
			want:      pricing.Tokens{Input: 17903, CacheRead: 17817},
			wantUsage: true,
		},
		{
			name: "reasoning is already inside output",
			// 1,970 reported output includes the 956 reasoning tokens: 1,970.
			attrs: map[string]any{
				"gen_ai.usage.output_tokens": 1970, "gen_ai.usage.reasoning.output_tokens": 956,
			},
			want:      pricing.Tokens{Output: 1970, Reasoning: 956},
			wantUsage: true,
		},
		{
			name: "deprecated names",
			attrs: map[string]any{
				"gen_ai.usage.prompt_tokens": 120, "gen_ai.usage.completion_tokens": 30,
			},
			want:      pricing.Tokens{Input: 120, Output: 30},
			wantUsage: true,
		},
		{
			name: "current name wins over deprecated, never added",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": 120, "gen_ai.usage.prompt_tokens": 120,
				"gen_ai.usage.output_tokens": 30, "gen_ai.usage.completion_tokens": 31,
			},
			want:      pricing.Tokens{Input: 120, Output: 30},
			wantUsage: true,
		},
		{
			name: "malformed current name falls back to deprecated",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": "lots", "gen_ai.usage.prompt_tokens": 120,
			},
			want:          pricing.Tokens{Input: 120},
			wantUsage:     true,
			wantMalformed: true,
		},
		{
			name: "a whole smaller than its parts left them out",
			// Reported input 100 < cache read 400 + cache write 300: it cannot
			// include them, so input = 100 + 400 + 300 = 800 (Anthropic's raw
			// input_tokens). Reported output 5 < reasoning 9: output = 5 + 9 = 14.
			attrs: map[string]any{
				"gen_ai.usage.input_tokens":                100,
				"gen_ai.usage.cache_read.input_tokens":     400,
				"gen_ai.usage.cache_creation.input_tokens": 300,
				"gen_ai.usage.output_tokens":               5,
				"gen_ai.usage.reasoning.output_tokens":     9,
			},
			want:      pricing.Tokens{Input: 800, Output: 14, CacheRead: 400, CacheWrite: 300, Reasoning: 9},
			wantUsage: true,
		},
		{
			name: "newer cache_write spelling",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": 500, "gen_ai.usage.cache_write.input_tokens": 200,
			},
			want:      pricing.Tokens{Input: 500, CacheWrite: 200},
			wantUsage: true,
		},
		{
			name: "cache_creation wins over cache_write",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens":                500,
				"gen_ai.usage.cache_creation.input_tokens": 200,
				"gen_ai.usage.cache_write.input_tokens":    200,
			},
			want:      pricing.Tokens{Input: 500, CacheWrite: 200},
			wantUsage: true,
		},
		{
			name: "numbers as doubles and strings",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": 120.0, "gen_ai.usage.output_tokens": "30",
			},
			want:      pricing.Tokens{Input: 120, Output: 30},
			wantUsage: true,
		},
		{
			name:  "no usage",
			attrs: map[string]any{"gen_ai.request.model": "gpt-4o"},
		},
		{
			name: "only malformed values is no usage",
			attrs: map[string]any{
				"gen_ai.usage.input_tokens": -1, "gen_ai.usage.output_tokens": 2.5,
				"gen_ai.usage.cache_read.input_tokens":     true,
				"gen_ai.usage.reasoning.output_tokens":     []any{"x"},
				"gen_ai.usage.cache_creation.input_tokens": map[string]any{},
			},
			wantMalformed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			require.NoError(t, attrs.FromRaw(tt.attrs))
			reported, malformed := readUsage(attrs, attributeFamilies(attrs), "openai", "")
			assert.Equal(t, tt.want, reported.normalized())
			assert.Equal(t, tt.wantUsage, reported.any())
			assert.Equal(t, tt.wantMalformed, malformed)
		})
	}
}

// TestUsageNamesHavePrefix keeps every usage name visible to the prefix
// check that spares the other attributes their lookup.
func TestUsageNamesHavePrefix(t *testing.T) {
	for name := range usageNames {
		assert.True(t, mayBeUsageName(name), name)
	}
	assert.False(t, mayBeUsageName("gen_ai.request.model"))
	assert.False(t, mayBeUsageName("gen_ai.response.model"))
	assert.False(t, mayBeUsageName("gen_ai.response.finish_reasons"))
	assert.False(t, mayBeUsageName("gen_ai.usage.cost"))
	assert.False(t, mayBeUsageName("http.route"))
}

// TestStandardCountsAreRankZero keeps the names write updates in step with
// usageNames: standardCounts[i] is the preferred name of quantity i.
func TestStandardCountsAreRankZero(t *testing.T) {
	for i, name := range standardCounts {
		assert.Equal(t, usageName{quantity(i), 0}, usageNames[name], name)
	}
}

// TestRepeatedTokenNameFirstValueNormalized covers a span from the wire that
// holds gen_ai.usage.input_tokens twice, first as a word and then as a
// count: the count is read (the word makes the usage malformed) and the
// first attribute, the one a reader of the span sees, is the one updated to
// the normalized 120; the repeat keeps its 120 as it was.
func TestRepeatedTokenNameFirstValueNormalized(t *testing.T) {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{
		"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"chat","kind":3,
		"endTimeUnixNano":"1796318191067033479","attributes":[
		{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
		{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
		{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
		{"key":"gen_ai.usage.input_tokens","value":{"stringValue":"many"}},
		{"key":"gen_ai.usage.input_tokens","value":{"intValue":"120"}},
		{"key":"gen_ai.usage.output_tokens","value":{"intValue":"30"}}]}]}]}]}`))
	require.NoError(t, err)
	p := newTestProcessor(t, nil)
	out, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)

	attrs := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	var inputs []any
	for key, v := range attrs.All() {
		if key == "gen_ai.usage.input_tokens" {
			inputs = append(inputs, v.AsRaw())
		}
	}
	assert.Equal(t, []any{int64(120), int64(120)}, inputs)
	malformed, _ := attrs.Get("usageledger.malformed")
	assert.True(t, malformed.Bool())
}
