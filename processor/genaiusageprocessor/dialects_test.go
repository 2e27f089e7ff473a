package genaiusageprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// absent marks, in a case's expectations, an attribute the span must not have.
type absentValue struct{}

var absent = absentValue{}

// notCounted expects a span the processor leaves uncounted.
var notCounted map[string]any

// dialectCase is one request of spans shaped as a real instrumentation
// library writes them, with what each span must carry afterwards.
type dialectCase struct {
	name  string
	cfg   func(*Config)
	res   map[string]any
	spans []traceSpan
	// want holds, per span, attributes it must carry (absent: must not),
	// or notCounted for a span that is not counted.
	want []map[string]any
}

func runDialectCases(t *testing.T, cases []dialectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			res := tc.res
			if res == nil {
				res = map[string]any{"service.name": "bot", "tenant.id": "acme"}
			}
			got := processRequest(t, newTestProcessor(t, cfg), res, tc.spans...)
			assert.Len(t, tc.want, len(tc.spans), "one expectation per span")
			for i, want := range tc.want {
				if want == nil {
					assert.NotEqual(t, true, got[i][usage.AttrCounted], "span %d (%s) counted", i, tc.spans[i].name)
					continue
				}
				assert.Equal(t, true, got[i][usage.AttrCounted], "span %d (%s) not counted", i, tc.spans[i].name)
				for k, v := range want {
					if v == absent {
						assert.NotContains(t, got[i], k, "span %d (%s)", i, tc.spans[i].name)
						continue
					}
					assert.Equal(t, v, got[i][k], "span %d (%s): %s", i, tc.spans[i].name, k)
				}
			}
		})
	}
}

const (
	client   = ptrace.SpanKindClient
	internal = ptrace.SpanKindInternal
	server   = ptrace.SpanKindServer
)

// TestDialectTokens reads the usage of every dialect with the meaning the
// ledger uses: input includes cache reads and writes, output includes
// reasoning, each quantity counted once.
func TestDialectTokens(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{
			// OpenAI chat completion with prompt caching, as the OpenTelemetry
			// OpenAI instrumentations write it: cached tokens are part of input.
			name: "semconv OpenAI cache read stays inside input",
			spans: []traceSpan{root("chat gpt-4o-mini", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 17903,
				"gen_ai.usage.cache_read.input_tokens": 17817, "gen_ai.usage.output_tokens": 10,
			})},
			// 17,903, not 17,903 + 17,817 = 35,720.
			want: []map[string]any{{
				usage.AttrInputTokens: int64(17903), usage.AttrCacheReadTokens: int64(17817),
				usage.AttrCallKind: "model", usage.AttrConnection: "bot/openai",
			}},
		},
		{
			// An o-series answer: OpenAI's completion_tokens already include
			// the reasoning tokens.
			name: "semconv reasoning stays inside output",
			spans: []traceSpan{root("chat o4-mini", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "o4-mini", "gen_ai.usage.input_tokens": 50,
				"gen_ai.usage.output_tokens": 1970, "gen_ai.usage.reasoning.output_tokens": 956,
			})},
			// 1,970, not 1,970 + 956 = 2,926.
			want: []map[string]any{{
				usage.AttrOutputTokens: int64(1970), usage.AttrReasoningTokens: int64(956),
			}},
		},
		{
			// semantic conventions up to v1.26 (opentelemetry-instrumentation-openai
			// 0.x): prompt_tokens / completion_tokens and gen_ai.system.
			name: "semconv v1.26 deprecated names",
			spans: []traceSpan{root("chat gpt-4o", client, map[string]any{
				"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
				"gen_ai.usage.prompt_tokens": 120, "gen_ai.usage.completion_tokens": 30,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(120), usage.AttrOutputTokens: int64(30)}},
		},
		{
			// genai main renamed cache_creation to cache_write.
			name: "semconv cache_write spelling",
			spans: []traceSpan{root("chat claude-sonnet-4-5", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
				"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 800,
				"gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.usage.cache_write.input_tokens": 300,
				"gen_ai.usage.output_tokens": 25,
			})},
			want: []map[string]any{{
				usage.AttrInputTokens: int64(800), usage.AttrCacheWriteTokens: int64(300),
				// 100×3,000,000 + 400×300,000 + 300×3,750,000 + 25×15,000,000.
				usage.AttrCostPicoUSD: int64(1_920_000_000),
			}},
		},
		{
			// openinference-instrumentation-openai: llm.token_count.*, the
			// host in llm.provider and the vendor in llm.system.
			name: "OpenInference LLM span",
			spans: []traceSpan{root("ChatCompletion", client, map[string]any{
				"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.system": "openai",
				"llm.model_name": "gpt-4o-mini-2024-07-18", "llm.token_count.prompt": 120,
				"llm.token_count.completion": 30, "llm.token_count.total": 150,
				"llm.token_count.prompt_details.cache_read": 20,
			})},
			want: []map[string]any{{
				usage.AttrProvider: "openai", usage.AttrModel: "gpt-4o-mini",
				usage.AttrInputTokens: int64(120), usage.AttrCacheReadTokens: int64(20),
				// 100×150,000 + 20×75,000 + 30×600,000 = 34,500,000.
				usage.AttrCostPicoUSD: int64(34_500_000),
			}},
		},
		{
			// openinference-instrumentation-anthropic sums input_tokens,
			// cache_creation and cache_read into llm.token_count.prompt.
			name: "OpenInference Anthropic prompt already includes the cache",
			spans: []traceSpan{root("Messages", client, map[string]any{
				"openinference.span.kind": "LLM", "llm.provider": "anthropic", "llm.system": "anthropic",
				"llm.model_name": "claude-sonnet-4-5", "llm.token_count.prompt": 800,
				"llm.token_count.completion": 25, "llm.token_count.total": 825,
				"llm.token_count.prompt_details.cache_read":  400,
				"llm.token_count.prompt_details.cache_write": 300,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(800), usage.AttrCacheWriteTokens: int64(300)}},
		},
		{
			// OpenLLMetry before its move to gen_ai.* (semconv-ai < 0.5): a
			// capitalized gen_ai.system, llm.request.type and underscore
			// cache names.
			name: "OpenLLMetry legacy",
			spans: []traceSpan{root("openai.chat", client, map[string]any{
				"llm.request.type": "chat", "gen_ai.system": "OpenAI", "gen_ai.request.model": "gpt-4o-mini",
				"gen_ai.usage.prompt_tokens": 120, "gen_ai.usage.completion_tokens": 30,
				"llm.usage.total_tokens": 150, "gen_ai.usage.cache_read_input_tokens": 20,
			})},
			want: []map[string]any{{
				usage.AttrProvider: "openai", usage.AttrInputTokens: int64(120),
				usage.AttrCacheReadTokens: int64(20),
			}},
		},
		{
			// OpenLLMetry after 0.5 with Anthropic: input already normalized,
			// total = input + output, so nothing is added.
			name: "OpenLLMetry gen_ai names with Anthropic",
			spans: []traceSpan{root("anthropic.chat", client, map[string]any{
				"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5",
				"gen_ai.usage.input_tokens": 800, "gen_ai.usage.output_tokens": 25,
				"gen_ai.usage.total_tokens": 825, "gen_ai.usage.cache_read.input_tokens": 400,
				"gen_ai.usage.cache_creation.input_tokens": 300,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(800)}},
		},
		{
			// A raw Anthropic report (OpenLIT writes input_tokens without the
			// cache) whose total gives the split away: 100 + 400 + 300 + 25 = 825.
			name: "raw Anthropic input recognized by its total",
			spans: []traceSpan{root("chat claude-sonnet-4-5", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
				"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 100,
				"gen_ai.usage.output_tokens": 25, "gen_ai.usage.total_tokens": 825,
				"gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.usage.cache_creation.input_tokens": 300,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(800)}},
		},
		{
			// Gemini reports thoughts apart from candidates: total = prompt +
			// candidates + thoughts = 100 + 50 + 30 = 180, so output = 80.
			name: "Gemini thoughts outside output",
			spans: []traceSpan{root("generate_content gemini-2.5-flash", client, map[string]any{
				"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini",
				"gen_ai.request.model": "gemini-2.5-flash", "gen_ai.usage.input_tokens": 100,
				"gen_ai.usage.output_tokens": 50, "gen_ai.usage.reasoning.output_tokens": 30,
				"gen_ai.usage.total_tokens": 180,
			})},
			want: []map[string]any{{usage.AttrOutputTokens: int64(80), usage.AttrReasoningTokens: int64(30)}},
		},
		{
			// AI SDK 6 (LanguageModelV3) reports input with the cache for
			// Anthropic too; the provider's own report agrees: 100+400+300.
			name: "Vercel AI SDK V3 Anthropic",
			spans: []traceSpan{root("ai.generateText.doGenerate", client, map[string]any{
				"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "anthropic.messages",
				"ai.model.id": "claude-sonnet-4-5", "ai.usage.inputTokens": 800,
				"ai.usage.inputTokenDetails.cacheReadTokens":  400,
				"ai.usage.inputTokenDetails.cacheWriteTokens": 300,
				"ai.usage.inputTokenDetails.noCacheTokens":    100, "ai.usage.outputTokens": 25,
				"ai.response.providerMetadata": `{"anthropic":{"usage":{"input_tokens":100,` +
					`"output_tokens":25,"cache_creation_input_tokens":300,"cache_read_input_tokens":400}}}`,
			})},
			want: []map[string]any{{
				usage.AttrInputTokens: int64(800), usage.AttrCacheReadTokens: int64(400),
				usage.AttrCacheWriteTokens: int64(300), usage.AttrConnection: "bot/anthropic",
			}},
		},
		{
			// AI SDK 5 with Anthropic and no provider metadata: inputTokens is
			// Anthropic's own count without the cache read of 400.
			name: "Vercel AI SDK 5 Anthropic without provider metadata",
			spans: []traceSpan{root("ai.streamText.doStream", client, map[string]any{
				"ai.operationId": "ai.streamText.doStream", "ai.model.provider": "anthropic.messages",
				"ai.model.id": "claude-sonnet-4-5", "ai.usage.inputTokens": 100,
				"ai.usage.cachedInputTokens": 400, "ai.usage.outputTokens": 25,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(500), usage.AttrCacheReadTokens: int64(400)}},
		},
		{
			// Strands: the model span names the framework as provider and the
			// cache in underscore names; the Bedrock endpoint names the provider.
			name: "Strands model span on Bedrock",
			spans: []traceSpan{root("chat", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.system": "strands-agents",
				"gen_ai.request.model":      "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
				"server.address":            "bedrock-runtime.us-east-1.amazonaws.com",
				"gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 40,
				"gen_ai.usage.cache_read_input_tokens": 500, "gen_ai.usage.cache_write_input_tokens": 200,
			})},
			want: []map[string]any{{
				usage.AttrProvider: "aws.bedrock", usage.AttrConnection: "bot/aws.bedrock",
				usage.AttrInputTokens: int64(900), usage.AttrCacheReadTokens: int64(500),
				usage.AttrCacheWriteTokens: int64(200),
			}},
		},
		{
			// Strands' invoke_agent span carries the accumulated usage under
			// both prompt_tokens and input_tokens: an aggregate, never a call.
			name: "Strands agent span is an aggregate",
			spans: []traceSpan{root("invoke_agent support", internal, map[string]any{
				"gen_ai.operation.name": "invoke_agent", "gen_ai.system": "strands-agents",
				"gen_ai.request.model":       "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
				"gen_ai.usage.prompt_tokens": 900, "gen_ai.usage.input_tokens": 900,
			})},
			want: []map[string]any{notCounted},
		},
		{
			// The same quantity under two names on one span: counted once.
			name: "input_tokens beside prompt_tokens counts once",
			spans: []traceSpan{root("chat", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.prompt_tokens": 120,
				"gen_ai.usage.input_tokens": 120, "llm.token_count.prompt": 120,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(120)}},
		},
		{
			// Semantic Kernel: operation chat.completions; older releases put
			// usage under gen_ai.response.*.
			name: "Semantic Kernel older usage names",
			spans: []traceSpan{root("chat.completions gpt-4o", client, map[string]any{
				"gen_ai.operation.name": "chat.completions", "gen_ai.system": "openai",
				"gen_ai.request.model": "gpt-4o", "gen_ai.response.prompt_tokens": 70,
				"gen_ai.response.completion_tokens": 7,
			})},
			want: []map[string]any{{usage.AttrInputTokens: int64(70), usage.AttrOutputTokens: int64(7)}},
		},
		{
			// Spring AI's embedding observation uses the operation "embedding".
			name: "Spring AI embedding",
			spans: []traceSpan{root("embedding text-embedding-3-small", client, map[string]any{
				"gen_ai.operation.name": "embedding", "gen_ai.system": "openai",
				"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 16,
				"gen_ai.usage.total_tokens": 16,
			})},
			// 16×20,000 = 320,000.
			want: []map[string]any{{usage.AttrCallKind: "embedding", usage.AttrCostPicoUSD: int64(320_000)}},
		},
		{
			// Provider metadata that is not JSON is a bad usage value: ignored,
			// flagged, and the SDK's own counts are used.
			name: "Vercel provider metadata unreadable",
			spans: []traceSpan{root("ai.generateText.doGenerate", client, map[string]any{
				"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "openai.chat",
				"ai.model.id": "gpt-4o-mini", "ai.usage.promptTokens": 120, "ai.usage.completionTokens": 30,
				"ai.response.providerMetadata": `{"openai":{"cachedPromptTokens":`,
			})},
			want: []map[string]any{{
				usage.AttrMalformed: true, usage.AttrInputTokens: int64(120),
				usage.AttrRequestModel: "gpt-4o-mini",
			}},
		},
		{
			// A negative count in the provider's report is ignored too.
			name: "Vercel provider metadata negative count",
			spans: []traceSpan{root("ai.generateText.doGenerate", client, map[string]any{
				"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "openai.chat",
				"ai.model.id": "gpt-4o-mini", "ai.usage.inputTokens": 120, "ai.usage.cachedInputTokens": 20,
				"ai.response.providerMetadata": `{"openai":{"cachedPromptTokens":-5}}`,
			})},
			want: []map[string]any{{usage.AttrMalformed: true, usage.AttrCacheReadTokens: int64(20)}},
		},
		{
			// LiteLLM v1 (callbacks: ["otel"]): litellm_request carries
			// gen_ai.system = custom_llm_provider and no operation name.
			name: "LiteLLM v1 litellm_request",
			spans: []traceSpan{root("litellm_request", internal, map[string]any{
				"gen_ai.system": "azure", "gen_ai.request.model": "gpt-4o-mini",
				"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
				"gen_ai.usage.total_tokens": 150, "metadata.user_api_key_team_id": "team-7",
			})},
			want: []map[string]any{{usage.AttrProvider: "azure.ai.openai", usage.AttrInputTokens: int64(120)}},
		},
	})
}
