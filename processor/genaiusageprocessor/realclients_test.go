package genaiusageprocessor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// readRealClient loads one of the recorded files in testdata/real-clients:
// one OTLP/HTTP JSON export request per line.
func readRealClient(t *testing.T, name string) []ptrace.Traces {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "real-clients", name))
	require.NoError(t, err)
	defer f.Close()

	var batches []ptrace.Traces
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for scanner.Scan() {
		if len(strings.TrimSpace(scanner.Text())) == 0 {
			continue
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(scanner.Bytes())
		require.NoError(t, err)
		batches = append(batches, td)
	}
	require.NoError(t, scanner.Err())
	require.NotEmpty(t, batches)
	return batches
}

// processedSpans runs the default processor over the batches and returns
// every span in order, with its attributes afterwards.
func processedSpans(t *testing.T, batches []ptrace.Traces) (names []string, attrs []map[string]any) {
	t.Helper()
	p := newTestProcessor(t, nil)
	for _, td := range batches {
		before := td.SpanCount()
		out, err := p.processTraces(context.Background(), td)
		require.NoError(t, err)
		require.Equal(t, before, out.SpanCount())

		rss := out.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					names = append(names, spans.At(k).Name())
					attrs = append(attrs, spans.At(k).Attributes().AsRaw())
				}
			}
		}
	}
	return names, attrs
}

func TestRealClientOTelOpenAI(t *testing.T) {
	names, spans := processedSpans(t, readRealClient(t, "otel-openai.otlp.jsonl"))

	// The values of testdata/real-clients/README.md. Costs at gpt-4o-mini
	// $0.15 input / $0.60 output and text-embedding-3-small $0.02 per million:
	// chat 120×150,000 + 30×600,000 = 36,000,000 pUSD ($0.000036);
	// embeddings 16×20,000 = 320,000 pUSD ($0.00000032).
	type want struct {
		name      string
		outcome   string
		input     any // nil when the span carries no token counts
		output    any
		cost      any // nil when unpriced
		unpriced  bool
		filtered  bool
		modelSeen string
	}
	wants := []want{
		{"chat gpt-4o-mini", "ok", int64(120), int64(30), int64(36_000_000), false, false, "gpt-4o-mini"},
		{"chat gpt-4o-mini", "ok", int64(120), int64(30), int64(36_000_000), false, false, "gpt-4o-mini"},
		{"embeddings text-embedding-3-small", "ok", int64(16), int64(0), int64(320_000), false, false,
			"text-embedding-3-small"},
		{"chat gpt-4o-mini-ratelimit", "rate_limited", nil, nil, int64(0), false, false, "gpt-4o-mini-ratelimit"},
		{"chat gpt-4o-mini-blocked", "blocked", nil, nil, int64(0), false, false, "gpt-4o-mini-blocked"},
		{"chat gpt-4o-mini-filter", "ok", int64(120), int64(30), nil, true, true, "gpt-4o-mini-filter"},
	}
	require.Equal(t, len(wants), len(spans), "spans in the file")

	var totalInput, totalOutput, totalCost int64
	for i, w := range wants {
		got := spans[i]
		assert.Equal(t, w.name, names[i])
		assert.Equal(t, true, got[usage.AttrCounted], w.name)
		assert.Equal(t, "acme", got[usage.AttrOrg], w.name)
		assert.Equal(t, "support-bot/openai", got[usage.AttrConnection], w.name)
		assert.Equal(t, "openai", got[usage.AttrProvider], w.name)
		assert.Equal(t, w.modelSeen, got[usage.AttrModel], w.name)
		assert.Equal(t, w.outcome, got[usage.AttrOutcome], w.name)
		assert.Equal(t, w.input, got[usage.AttrInputTokens], w.name)
		assert.Equal(t, w.output, got[usage.AttrOutputTokens], w.name)
		assert.Equal(t, w.cost, got[usage.AttrCostPicoUSD], w.name)
		assert.Equal(t, w.unpriced, got[usage.AttrUnpriced] == true, w.name)
		assert.Equal(t, w.filtered, got[usage.AttrFiltered] == true, w.name)
		// The library does not report cache reads, so the product cannot know them.
		assert.NotContains(t, got, usage.AttrCacheReadTokens, w.name)
		assert.NotContains(t, got, usage.AttrUsageMissing, w.name)
		assert.NotContains(t, got, usage.AttrMalformed, w.name)

		if n, ok := got[usage.AttrInputTokens].(int64); ok {
			totalInput += n
		}
		if n, ok := got[usage.AttrOutputTokens].(int64); ok {
			totalOutput += n
		}
		if n, ok := got[usage.AttrCostPicoUSD].(int64); ok {
			totalCost += n
		}
	}
	// File totals: input 120+120+16+120 = 376, output 30+30+30 = 90,
	// cost 36,000,000+36,000,000+320,000 = 72,320,000 pUSD ($0.00007232).
	assert.Equal(t, int64(376), totalInput)
	assert.Equal(t, int64(90), totalOutput)
	assert.Equal(t, int64(72_320_000), totalCost)
}

// TestRealClientVercelAI checks the values of testdata/real-clients/README.md
// for the Vercel AI SDK: the outer wrapper spans are never counted, the
// Anthropic cache counts come from ai.response.providerMetadata, and the
// embedding's usage from ai.usage.tokens.
func TestRealClientVercelAI(t *testing.T) {
	names, spans := processedSpans(t, readRealClient(t, "vercel-ai.otlp.jsonl"))

	// Prices per million tokens: gpt-4o-mini $0.15 input, $0.075 cache read,
	// $0.60 output; text-embedding-3-small $0.02; claude-sonnet-4-5 $3
	// input, $0.30 cache read, $3.75 cache write, $15 output.
	type want struct {
		name       string
		connection string
		outcome    string
		input      any // nil when the span carries no token counts
		output     any
		cacheRead  any // nil when not on the span
		cacheWrite any
		cost       int64
		model      string
	}
	wants := []want{
		// 200×150,000 + 40×600,000 = 54,000,000.
		{"ai.generateText.doGenerate", "docs-assistant/openai", "ok", int64(200), int64(40), nil, nil,
			54_000_000, "gpt-4o-mini"},
		{name: "ai.generateText"},
		// 120×150,000 + 30×600,000 = 36,000,000.
		{"ai.generateText.doGenerate", "docs-assistant/openai", "ok", int64(120), int64(30), nil, nil,
			36_000_000, "gpt-4o-mini"},
		{name: "ai.generateText"},
		// (120−20)×150,000 + 20×75,000 + 30×600,000
		// = 15,000,000 + 1,500,000 + 18,000,000 = 34,500,000.
		{"ai.streamText.doStream", "docs-assistant/openai", "ok", int64(120), int64(30), int64(20), nil,
			34_500_000, "gpt-4o-mini"},
		{name: "ai.streamText"},
		// Anthropic's own report: input 100 + cache read 400 + cache write 300
		// = 800. 100×3,000,000 + 400×300,000 + 300×3,750,000 + 25×15,000,000
		// = 300,000,000 + 120,000,000 + 1,125,000,000 + 375,000,000
		// = 1,920,000,000.
		{"ai.generateText.doGenerate", "docs-assistant/anthropic", "ok", int64(800), int64(25), int64(400),
			int64(300), 1_920_000_000, "claude-sonnet-4-5"},
		{name: "ai.generateText"},
		// 16×20,000 = 320,000.
		{"ai.embed.doEmbed", "docs-assistant/openai", "ok", int64(16), int64(0), nil, nil,
			320_000, "text-embedding-3-small"},
		{name: "ai.embed"},
		{"ai.generateText.doGenerate", "docs-assistant/openai", "rate_limited", nil, nil, nil, nil,
			0, "gpt-4o-mini-ratelimit"},
		{name: "ai.generateText"},
	}
	require.Equal(t, len(wants), len(spans), "spans in the file")

	var counted, rateLimited int
	var input, output, cacheRead, cacheWrite, cost int64
	for i, w := range wants {
		got := spans[i]
		require.Equal(t, w.name, names[i], "span %d", i)
		if w.connection == "" {
			// A wrapper span passes untouched.
			for k := range got {
				assert.False(t, strings.HasPrefix(k, "usageledger."), "wrapper %s has %s", w.name, k)
			}
			continue
		}
		counted++
		assert.Equal(t, true, got[usage.AttrCounted], w.name)
		assert.Equal(t, "globex", got[usage.AttrOrg], w.name)
		assert.Equal(t, w.connection, got[usage.AttrConnection], w.name)
		assert.Equal(t, w.outcome, got[usage.AttrOutcome], w.name)
		assert.Equal(t, w.model, got[usage.AttrModel], w.name)
		assert.Equal(t, w.input, got[usage.AttrInputTokens], w.name)
		assert.Equal(t, w.output, got[usage.AttrOutputTokens], w.name)
		assert.Equal(t, w.cacheRead, got[usage.AttrCacheReadTokens], w.name)
		assert.Equal(t, w.cacheWrite, got[usage.AttrCacheWriteTokens], w.name)
		assert.Equal(t, w.cost, got[usage.AttrCostPicoUSD], w.name)
		assert.NotContains(t, got, usage.AttrUnpriced, w.name)
		assert.NotContains(t, got, usage.AttrUsageMissing, w.name)
		assert.NotContains(t, got, usage.AttrMalformed, w.name)
		assert.NotContains(t, got, usage.AttrFiltered, w.name)
		if w.outcome == "rate_limited" {
			rateLimited++
		}
		for _, sum := range []struct {
			total *int64
			key   string
		}{
			{&input, usage.AttrInputTokens}, {&output, usage.AttrOutputTokens},
			{&cacheRead, usage.AttrCacheReadTokens}, {&cacheWrite, usage.AttrCacheWriteTokens},
			{&cost, usage.AttrCostPicoUSD},
		} {
			if n, ok := got[sum.key].(int64); ok {
				*sum.total += n
			}
		}
	}
	// File totals: 6 requests, 1 rate-limited, input 200+120+120+800+16 =
	// 1,256, output 40+30+30+25 = 125, cache read 20+400 = 420, cache write
	// 300, cost 54,000,000 + 36,000,000 + 34,500,000 + 1,920,000,000 +
	// 320,000 = 2,044,820,000 pUSD ($0.00204482).
	assert.Equal(t, 6, counted)
	assert.Equal(t, 1, rateLimited)
	assert.Equal(t, int64(1256), input)
	assert.Equal(t, int64(125), output)
	assert.Equal(t, int64(420), cacheRead)
	assert.Equal(t, int64(300), cacheWrite)
	assert.Equal(t, int64(2_044_820_000), cost)
}

// realCall is what the product must derive from one span of a recorded
// file, as testdata/real-clients/README.md lists it. A nil count is not on
// the span; a nil cost is unpriced.
type realCall struct {
	name, outcome, model string

	input, output                    any
	cacheRead, cacheWrite, reasoning any
	cost                             any

	filtered, usageMissing bool
}

// realTotals are a recorded file's totals, as its README table sums them.
type realTotals struct {
	requests, filtered, unpriced, usageMissing int

	input, output, cacheRead, cacheWrite, reasoning int64
	cost                                            int64
}

// checkRealClient runs the default processor over one recorded file and
// compares every span, all of them calls of one connection, and the
// file's totals with the README's values.
func checkRealClient(t *testing.T, file, org, connection string, wants []realCall, totals realTotals) {
	t.Helper()
	names, spans := processedSpans(t, readRealClient(t, file))
	require.Equal(t, len(wants), len(spans), "spans in the file")

	var got realTotals
	for i, w := range wants {
		s := spans[i]
		what := fmt.Sprintf("span %d (%s %s)", i, w.name, w.model)
		assert.Equal(t, w.name, names[i], what)
		assert.Equal(t, true, s[usage.AttrCounted], what)
		assert.Equal(t, org, s[usage.AttrOrg], what)
		assert.Equal(t, connection, s[usage.AttrConnection], what)
		assert.Equal(t, w.outcome, s[usage.AttrOutcome], what)
		assert.Equal(t, w.model, s[usage.AttrModel], what)
		assert.Equal(t, w.input, s[usage.AttrInputTokens], what)
		assert.Equal(t, w.output, s[usage.AttrOutputTokens], what)
		assert.Equal(t, w.cacheRead, s[usage.AttrCacheReadTokens], what)
		assert.Equal(t, w.cacheWrite, s[usage.AttrCacheWriteTokens], what)
		assert.Equal(t, w.reasoning, s[usage.AttrReasoningTokens], what)
		assert.Equal(t, w.cost, s[usage.AttrCostPicoUSD], what)
		assert.Equal(t, w.cost == nil, s[usage.AttrUnpriced] == true, what)
		assert.Equal(t, w.filtered, s[usage.AttrFiltered] == true, what)
		assert.Equal(t, w.usageMissing, s[usage.AttrUsageMissing] == true, what)
		assert.NotContains(t, s, usage.AttrMalformed, what)

		got.requests++
		for _, flag := range []struct {
			n   *int
			key string
		}{
			{&got.filtered, usage.AttrFiltered}, {&got.unpriced, usage.AttrUnpriced},
			{&got.usageMissing, usage.AttrUsageMissing},
		} {
			if s[flag.key] == true {
				*flag.n++
			}
		}
		for _, sum := range []struct {
			total *int64
			key   string
		}{
			{&got.input, usage.AttrInputTokens}, {&got.output, usage.AttrOutputTokens},
			{&got.cacheRead, usage.AttrCacheReadTokens}, {&got.cacheWrite, usage.AttrCacheWriteTokens},
			{&got.reasoning, usage.AttrReasoningTokens}, {&got.cost, usage.AttrCostPicoUSD},
		} {
			if n, ok := s[sum.key].(int64); ok {
				*sum.total += n
			}
		}
	}
	assert.Equal(t, totals, got, "file totals")
}

func TestRealClientOpenLLMetryOpenAI(t *testing.T) {
	// Seven calls, four spans: embeddings are not traced and failed calls
	// never end their span. gpt-4o-mini at $0.15 input / $0.60 output per
	// million tokens.
	wants := []realCall{
		// 120×150,000 + 30×600,000 = 36,000,000.
		{name: "chat gpt-4o-mini", outcome: "ok", model: "gpt-4o-mini",
			input: int64(120), output: int64(30), cost: int64(36_000_000)},
		// The streamed span carries no token count: usage missing, cost 0.
		{name: "chat gpt-4o-mini", outcome: "ok", model: "gpt-4o-mini",
			cost: int64(0), usageMissing: true},
		// The responses call, recorded as chat: 200×150,000 + 40×600,000 =
		// 54,000,000.
		{name: "chat gpt-4o-mini", outcome: "ok", model: "gpt-4o-mini",
			input: int64(200), output: int64(40), cost: int64(54_000_000)},
		{name: "chat gpt-4o-mini-filter", outcome: "ok", model: "gpt-4o-mini-filter",
			input: int64(120), output: int64(30), filtered: true},
	}
	// Input 120+200+120 = 440, output 30+40+30 = 100, cost 90,000,000 ($0.00009).
	checkRealClient(t, "openllmetry-openai.otlp.jsonl", "initech", "billing-agent/openai", wants,
		realTotals{requests: 4, filtered: 1, unpriced: 1, usageMissing: 1,
			input: 440, output: 100, cost: 90_000_000})
}

func TestRealClientOpenLLMetryAnthropic(t *testing.T) {
	// gen_ai.usage.input_tokens is Anthropic's 100, without the cache; the
	// cache counts beside it make input 100 + 400 + 300 = 800. At
	// claude-sonnet-4-5 $3 input, $0.30 cache read, $3.75 cache write, $15
	// output per million: 100×3,000,000 + 400×300,000 + 300×3,750,000 +
	// 25×15,000,000 = 300,000,000 + 120,000,000 + 1,125,000,000 + 375,000,000
	// = 1,920,000,000.
	wants := []realCall{
		{name: "chat claude-sonnet-4-5", outcome: "ok", model: "claude-sonnet-4-5",
			input: int64(800), output: int64(25), cacheRead: int64(400), cacheWrite: int64(300),
			cost: int64(1_920_000_000)},
		{name: "chat claude-sonnet-4-5", outcome: "ok", model: "claude-sonnet-4-5",
			input: int64(800), output: int64(25), cacheRead: int64(400), cacheWrite: int64(300),
			cost: int64(1_920_000_000)},
		{name: "chat claude-sonnet-4-5-ratelimit", outcome: "rate_limited",
			model: "claude-sonnet-4-5-ratelimit", cost: int64(0)},
		{name: "chat claude-sonnet-4-5-blocked", outcome: "blocked",
			model: "claude-sonnet-4-5-blocked", cost: int64(0)},
	}
	checkRealClient(t, "openllmetry-anthropic.otlp.jsonl", "initech", "billing-agent/anthropic", wants,
		realTotals{requests: 4, input: 1600, output: 50, cacheRead: 800, cacheWrite: 600,
			cost: 3_840_000_000})
}

func TestRealClientOpenInferenceOpenAI(t *testing.T) {
	// gpt-4o-mini at $0.15 input, $0.075 cache read, $0.60 output per million.
	wants := []realCall{
		// (120−20)×150,000 + 20×75,000 + 30×600,000 = 15,000,000 + 1,500,000
		// + 18,000,000 = 34,500,000.
		{name: "OpenAI Chat Completions", outcome: "ok", model: "gpt-4o-mini",
			input: int64(120), output: int64(30), cacheRead: int64(20), reasoning: int64(0),
			cost: int64(34_500_000)},
		{name: "OpenAI Chat Completions", outcome: "ok", model: "gpt-4o-mini",
			cost: int64(0), usageMissing: true},
		// (200−50)×150,000 + 50×75,000 + 40×600,000 = 22,500,000 + 3,750,000
		// + 24,000,000 = 50,250,000; reasoning 10 is inside output 40.
		{name: "OpenAI Responses", outcome: "ok", model: "gpt-4o-mini",
			input: int64(200), output: int64(40), cacheRead: int64(50), reasoning: int64(10),
			cost: int64(50_250_000)},
		// The model is in embedding.model_name; no token count, so cost 0 and
		// not unpriced.
		{name: "OpenAI Embeddings", outcome: "ok", model: "text-embedding-3-small",
			cost: int64(0), usageMissing: true},
		// llm.finish_reason=content_filter.
		{name: "OpenAI Chat Completions", outcome: "ok", model: "gpt-4o-mini-filter",
			input: int64(120), output: int64(30), cacheRead: int64(20), reasoning: int64(0),
			filtered: true},
	}
	// Input 120+200+120 = 440, output 100, cache read 20+50+20 = 90,
	// reasoning 10, cost 34,500,000 + 50,250,000 = 84,750,000 ($0.00008475).
	checkRealClient(t, "openinference-openai.otlp.jsonl", "umbrella", "research-agent/openai", wants,
		realTotals{requests: 5, filtered: 1, unpriced: 1, usageMissing: 2,
			input: 440, output: 100, cacheRead: 90, reasoning: 10, cost: 84_750_000})
}

func TestRealClientOpenInferenceAnthropic(t *testing.T) {
	// llm.token_count.prompt is already 800 with the cache; costs as for
	// OpenLLMetry's Anthropic spans: 1,920,000,000.
	wants := []realCall{
		{name: "Anthropic Messages", outcome: "ok", model: "claude-sonnet-4-5",
			input: int64(800), output: int64(25), cacheRead: int64(400), cacheWrite: int64(300),
			cost: int64(1_920_000_000)},
		{name: "Anthropic Messages", outcome: "ok", model: "claude-sonnet-4-5",
			input: int64(800), output: int64(25), cacheRead: int64(400), cacheWrite: int64(300),
			cost: int64(1_920_000_000)},
		{name: "Anthropic Messages", outcome: "rate_limited", model: "claude-sonnet-4-5-ratelimit",
			cost: int64(0)},
		{name: "Anthropic Messages", outcome: "blocked", model: "claude-sonnet-4-5-blocked",
			cost: int64(0)},
	}
	checkRealClient(t, "openinference-anthropic.otlp.jsonl", "umbrella", "research-agent/anthropic", wants,
		realTotals{requests: 4, input: 1600, output: 50, cacheRead: 800, cacheWrite: 600,
			cost: 3_840_000_000})
}
