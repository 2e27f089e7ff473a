package genaiusageprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/usage"
)

// openAIChatAttrs is an OpenAI chat span of the OpenTelemetry instrumentation.
func openAIChatAttrs(extra map[string]any) map[string]any {
	attrs := map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 120,
		"gen_ai.usage.output_tokens": 30,
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return attrs
}

// TestOneCountPerCall counts leaf calls only: aggregates and wrappers are
// never counted again.
func TestOneCountPerCall(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{
			// An in-process agent (LangChain, CrewAI, OpenAI Agents SDK) around
			// its model call; its usage sums the children.
			name: "invoke_agent INTERNAL around its chat",
			spans: []traceSpan{
				root("invoke_agent support", internal, map[string]any{
					"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support",
					"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
				}),
				child(0, "chat gpt-4o-mini", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{notCounted, {usage.AttrInputTokens: int64(120)}},
		},
		{
			// OpenAI Assistants / Bedrock Agents: the remote agent is the resource.
			name: "invoke_agent CLIENT is a call",
			spans: []traceSpan{root("invoke_agent asst", client, map[string]any{
				"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai",
				"gen_ai.agent.id": "asst_123",
			})},
			want: []map[string]any{{
				usage.AttrCallKind: "agent", usage.AttrConnection: "asst_123/openai",
				usage.AttrUsageMissing: true,
			}},
		},
		{
			name: "workflow, agent_step and create_agent are not calls",
			spans: []traceSpan{
				root("invoke_workflow triage", internal, map[string]any{"gen_ai.operation.name": "invoke_workflow"}),
				child(0, "step 1", internal, map[string]any{
					"gen_ai.operation.name": "agent_step", "gen_ai.usage.input_tokens": 120,
				}),
				child(0, "create_agent x", client, map[string]any{"gen_ai.operation.name": "create_agent"}),
			},
			want: []map[string]any{notCounted, notCounted, notCounted},
		},
		{
			// pydantic-ai V2 agent runs carry gen_ai.aggregated_usage.*.
			name: "aggregated usage is never a call",
			spans: []traceSpan{
				root("agent run", internal, map[string]any{
					"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
					"gen_ai.aggregated_usage.input_tokens": 240, "gen_ai.aggregated_usage.output_tokens": 60,
				}),
				child(0, "chat gpt-4o-mini", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{notCounted, {usage.AttrInputTokens: int64(120)}},
		},
		{
			// OpenInference AGENT and CHAIN spans (smolagents, LlamaIndex)
			// propagate their children's counts upward.
			name: "OpenInference AGENT and CHAIN are aggregates",
			spans: []traceSpan{
				root("Agent.run", internal, map[string]any{
					"openinference.span.kind": "AGENT", "llm.token_count.prompt": 120,
				}),
				child(0, "Chain", internal, map[string]any{
					"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 120,
				}),
				child(1, "ChatCompletion", client, map[string]any{
					"openinference.span.kind": "LLM", "llm.provider": "openai",
					"llm.model_name": "gpt-4o-mini", "llm.token_count.prompt": 120,
				}),
			},
			want: []map[string]any{notCounted, notCounted, {usage.AttrInputTokens: int64(120)}},
		},
		{
			// The Vercel AI SDK's ai.generateText around its doGenerate.
			name: "Vercel wrapper span",
			spans: []traceSpan{
				root("ai.generateText", internal, map[string]any{
					"ai.operationId": "ai.generateText", "ai.model.provider": "openai.chat",
					"ai.model.id": "gpt-4o-mini", "ai.usage.promptTokens": 120,
				}),
				child(0, "ai.generateText.doGenerate", client, map[string]any{
					"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "openai.chat",
					"ai.model.id": "gpt-4o-mini", "ai.usage.promptTokens": 120,
					"gen_ai.system": "openai.chat", "gen_ai.request.model": "gpt-4o-mini",
				}),
			},
			want: []map[string]any{notCounted, {usage.AttrInputTokens: int64(120)}},
		},
		{
			// OpenLLMetry workflow and task spans.
			name: "OpenLLMetry workflow span",
			spans: []traceSpan{root("support.workflow", internal, map[string]any{
				"traceloop.span.kind": "workflow", "gen_ai.system": "openai",
				"gen_ai.request.model": "gpt-4o-mini",
			})},
			want: []map[string]any{notCounted},
		},
		{
			// LiteLLM v2: the FastAPI server span is not the call; the CLIENT
			// span under it is.
			name: "LiteLLM v2 server span and its LLM span",
			spans: []traceSpan{
				root("POST /v1/chat/completions", server, map[string]any{
					"http.request.method": "POST", "http.response.status_code": 200,
				}),
				child(0, "chat gpt-4o", client, map[string]any{
					"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
					"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10,
					"litellm.team.id": "team-7",
				}),
			},
			want: []map[string]any{notCounted, {usage.AttrInputTokens: int64(10)}},
		},
	})
}

// TestTwoSpansOneCall counts a call recorded by two instrumentations once.
func TestTwoSpansOneCall(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{
			// OpenLLMetry's LangChain span around the OpenAI SDK's own span
			// (openinference #1154, dd-trace-py #18868 show the shape): the
			// innermost span counts, the wrapper is marked duplicate.
			name: "framework span around the provider SDK span",
			spans: []traceSpan{
				root("ChatOpenAI.chat", client, map[string]any{
					"llm.request.type": "chat", "gen_ai.system": "openai",
					"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.prompt_tokens": 120,
					"gen_ai.usage.completion_tokens": 30,
				}),
				child(0, "chat gpt-4o-mini", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{notCounted, {usage.AttrInputTokens: int64(120)}},
		},
		{
			// An embedding under a retrieval tool is a different call.
			name: "model call under a tool call is its own call",
			spans: []traceSpan{
				root("execute_tool search_docs", internal, map[string]any{
					"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_docs",
				}),
				child(0, "embeddings text-embedding-3-small", client, map[string]any{
					"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
					"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 16,
				}),
			},
			want: []map[string]any{
				{usage.AttrCallKind: "tool", usage.AttrConnection: "bot/tool:search_docs"},
				{usage.AttrCallKind: "embedding"},
			},
		},
		{
			// Two chat calls in one agent run: siblings, both counted.
			name: "sibling calls both count",
			spans: []traceSpan{
				root("invoke_agent a", internal, map[string]any{"gen_ai.operation.name": "invoke_agent"}),
				child(0, "chat", client, openAIChatAttrs(map[string]any{"gen_ai.response.id": "chatcmpl-1"})),
				child(0, "chat", client, openAIChatAttrs(map[string]any{"gen_ai.response.id": "chatcmpl-2"})),
			},
			want: []map[string]any{notCounted, {}, {}},
		},
	})
}

// TestResponseIDs writes the response id the ledger recognizes a call by,
// and counts two spans of one response in one request once.
func TestResponseIDs(t *testing.T) {
	gateway := root("litellm_request", server, map[string]any{
		"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.response.id": "chatcmpl-42", "gen_ai.usage.input_tokens": 120,
	})
	clientSpan := root("chat gpt-4o-mini", client, openAIChatAttrs(map[string]any{
		"gen_ai.response.id": "chatcmpl-42",
	}))
	runDialectCases(t, []dialectCase{
		{
			// Every counted call carries its provider's response id, as
			// reported, for the ledger; a call without one gets none.
			name: "response id written when reported",
			spans: []traceSpan{
				root("chat", client, openAIChatAttrs(map[string]any{"gen_ai.response.id": "chatcmpl-1"})),
				root("ai.generateText.doGenerate", client, map[string]any{
					"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "openai.chat",
					"ai.model.id": "gpt-4o-mini", "ai.response.id": "resp_7",
					"ai.usage.promptTokens": 10, "ai.usage.completionTokens": 2,
				}),
				root("chat", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{
				{usage.AttrResponseID: "chatcmpl-1"},
				{usage.AttrResponseID: "resp_7"},
				{usage.AttrResponseID: absent},
			},
		},
		{
			// A gateway's span and the client's span of one response, in one
			// request and one trace: the first in the request counts.
			name:  "same response in one request counts once",
			spans: []traceSpan{gateway, clientSpan},
			want:  []map[string]any{{usage.AttrConnection: "bot/openai", usage.AttrResponseID: "chatcmpl-42"}, notCounted},
		},
		{
			// The same response id in another trace is another call.
			name:  "same response id in another trace counts",
			spans: []traceSpan{gateway, {name: "chat", kind: client, parent: -1, trace: 2, attrs: clientSpan.attrs}},
			want:  []map[string]any{{usage.AttrInputTokens: int64(120)}, {usage.AttrInputTokens: int64(120)}},
		},
	})

	// The second span of one request is marked, so that a collector further
	// on does not count it either.
	p := newTestProcessor(t, nil)
	got := processRequest(t, p, map[string]any{"service.name": "bot"}, gateway, clientSpan)
	assert.Equal(t, true, got[1][usage.AttrDuplicate])

	// Spans of one response in different requests both count here: the
	// processor keeps nothing between requests, the ledger tells them apart
	// by trace and response id when it commits them.
	p = newTestProcessor(t, nil)
	first := processRequest(t, p, map[string]any{"service.name": "gateway"}, gateway)
	second := processRequest(t, p, map[string]any{"service.name": "bot"}, clientSpan)
	assert.Equal(t, true, first[0][usage.AttrCounted])
	assert.Equal(t, true, second[0][usage.AttrCounted])
	assert.Equal(t, first[0][usage.AttrResponseID], second[0][usage.AttrResponseID])

	// A second collector leaves a duplicate as it is.
	next := newTestProcessor(t, nil)
	td, span := newTraces(t, spanSpec{attrs: openAIChatAttrs(map[string]any{usage.AttrDuplicate: true})})
	_, err := next.processTraces(context.Background(), td)
	require.NoError(t, err)
	assert.NotContains(t, span.Attributes().AsRaw(), usage.AttrCounted)
}

// TestUsageMissingOrEstimated flags a call without usage and usage an
// instrumentation estimated.
func TestUsageMissingOrEstimated(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{
			// A stream without stream_options.include_usage: no usage at all.
			name: "stream without include_usage",
			spans: []traceSpan{root("chat gpt-4o-mini", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.stream": true,
			})},
			want: []map[string]any{{
				usage.AttrUsageMissing: true, usage.AttrCostPicoUSD: int64(0),
				usage.AttrInputTokens: absent,
			}},
		},
		{
			// The botocore extension estimates Cohere Command usage on
			// InvokeModel from the text length.
			name: "botocore estimate for Cohere on Bedrock",
			spans: []traceSpan{{
				name: "chat cohere.command-r-v1:0", kind: client, parent: -1,
				scope: "opentelemetry.instrumentation.botocore.bedrock-runtime",
				attrs: map[string]any{
					"gen_ai.operation.name": "chat", "gen_ai.system": "aws.bedrock",
					"gen_ai.request.model": "cohere.command-r-v1:0", "rpc.method": "InvokeModel",
					"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 40,
				},
			}},
			want: []map[string]any{{usage.AttrUsageEstimated: true}},
		},
		{
			name: "a user's estimate condition",
			cfg: func(cfg *Config) {
				cfg.UsageEstimated = []string{`attributes["gen_ai.usage.source"] == "tokenizer"`}
			},
			spans: []traceSpan{
				root("chat", client, openAIChatAttrs(map[string]any{"gen_ai.usage.source": "tokenizer"})),
				root("chat", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{{usage.AttrUsageEstimated: true}, {usage.AttrUsageEstimated: absent}},
		},
	})
}

// TestNormalizedOnce processes a span twice: the second collector trusts the
// marked values and does not normalize them again.
func TestNormalizedOnce(t *testing.T) {
	// The Anthropic call of the Vercel AI SDK: Anthropic's own input 100
	// plus cache read 400 and cache write 300 is 800 the first time, and must
	// not become 800 + 700 = 1,500 the second time.
	s := root("ai.generateText.doGenerate", client, map[string]any{
		"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "anthropic.messages",
		"ai.model.id": "claude-sonnet-4-5", "gen_ai.system": "anthropic.messages",
		"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 100,
		"gen_ai.usage.output_tokens": 25,
		"ai.response.providerMetadata": `{"anthropic":{"usage":{"input_tokens":100,"output_tokens":25,` +
			`"cache_creation_input_tokens":300,"cache_read_input_tokens":400}}}`,
	})
	first := processRequest(t, newTestProcessor(t, nil), nil, s)[0]
	assert.Equal(t, int64(800), first[usage.AttrInputTokens])

	s.attrs = first
	second := processRequest(t, newTestProcessor(t, nil), nil, s)[0]
	assert.Equal(t, first, second)
}
