package genaiusageprocessor

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// TestOutcomeSignals recognizes the rate-limit and guardrail signals of
// real libraries and gateways, and the user's OTTL conditions.
func TestOutcomeSignals(t *testing.T) {
	failed := func(s traceSpan, message string) traceSpan {
		s.status, s.message = ptrace.StatusCodeError, message
		return s
	}
	runDialectCases(t, []dialectCase{
		{
			// Envoy AI Gateway in gen_ai mode writes the HTTP code as error.type.
			name: "Envoy AI Gateway gen_ai mode 429",
			spans: []traceSpan{failed(root("chat gpt-4o", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o", "error.type": "429",
			}), "Error code: 429")},
			want: []map[string]any{{usage.AttrOutcome: "rate_limited", usage.AttrCostPicoUSD: int64(0)}},
		},
		{
			// Envoy AI Gateway in openinference mode: an exception event.
			name: "Envoy AI Gateway openinference mode",
			spans: []traceSpan{func() traceSpan {
				s := failed(root("ChatCompletion", client, map[string]any{
					"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o",
				}), "")
				s.exception = map[string]any{"exception.type": "RateLimitError", "exception.message": "slow down"}
				return s
			}()},
			want: []map[string]any{{usage.AttrOutcome: "rate_limited"}},
		},
		{
			// LiteLLM v1 failure: error.type is the class, error.code the status.
			name: "LiteLLM v1 error.code 429",
			spans: []traceSpan{failed(root("litellm_request", internal, map[string]any{
				"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
				"error.type": "APIError", "error.code": int64(429),
			}), "")},
			want: []map[string]any{{usage.AttrOutcome: "rate_limited"}},
		},
		{
			// botocore: type(exception).__qualname__.
			name: "Bedrock ThrottlingException",
			spans: []traceSpan{failed(root("chat", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.system": "aws.bedrock",
				"gen_ai.request.model": "anthropic.claude-3-haiku", "error.type": "ThrottlingException",
			}), "")},
			want: []map[string]any{{usage.AttrOutcome: "rate_limited"}},
		},
		{
			// A guardrail verdict on the call span (proposed gen_ai.guardrail.*).
			name: "gen_ai.guardrail deny verdict on the call",
			spans: []traceSpan{root("chat gpt-4o", client, openAIChatAttrs(map[string]any{
				"gen_ai.guardrail.verdict.type": "deny", "gen_ai.usage.input_tokens": 0,
				"gen_ai.usage.output_tokens": 0,
			}))},
			want: []map[string]any{{usage.AttrOutcome: "blocked", usage.AttrCostPicoUSD: int64(0)}},
		},
		{
			// Bedrock Converse stopReason guardrail_intervened with no answer:
			// the input guardrail stopped the call.
			name: "Bedrock guardrail_intervened without output",
			spans: []traceSpan{root("chat", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.system": "aws.bedrock",
				"gen_ai.request.model": "anthropic.claude-3-haiku", "gen_ai.usage.input_tokens": 20,
				"gen_ai.usage.output_tokens": 0, "gen_ai.response.finish_reasons": []any{"guardrail_intervened"},
			})},
			want: []map[string]any{{usage.AttrOutcome: "blocked"}},
		},
		{
			// With an answer written, the model ran: billed, ok and filtered.
			name: "Bedrock guardrail_intervened after output",
			spans: []traceSpan{root("chat", client, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.system": "aws.bedrock",
				"gen_ai.request.model": "anthropic.claude-3-haiku", "gen_ai.usage.input_tokens": 20,
				"gen_ai.usage.output_tokens": 9, "gen_ai.response.finish_reasons": []any{"guardrail_intervened"},
			})},
			want: []map[string]any{{usage.AttrOutcome: "ok", usage.AttrFiltered: true}},
		},
		{
			// Azure OpenAI cut the completion: the model ran and is billed.
			name: "content_filter is ok and filtered",
			spans: []traceSpan{root("chat gpt-4o-mini", client, openAIChatAttrs(map[string]any{
				"gen_ai.response.finish_reasons": []any{"content_filter"},
			}))},
			// 120×150,000 + 30×600,000 = 36,000,000.
			want: []map[string]any{{
				usage.AttrOutcome: "ok", usage.AttrFiltered: true, usage.AttrCostPicoUSD: int64(36_000_000),
			}},
		},
		{
			// LiteLLM v2: a pre-call guardrail that intervened is a sibling
			// of the LLM span under the server span.
			name: "LiteLLM v2 guardrail sibling blocks the call",
			spans: []traceSpan{
				root("POST /v1/chat/completions", server, map[string]any{"http.response.status_code": 400}),
				child(0, "execute_guardrail presidio", internal, map[string]any{
					"litellm.guardrail.name": "presidio", "litellm.guardrail.mode": "pre_call",
					"litellm.guardrail.status": "guardrail_intervened",
				}),
				child(0, "chat gpt-4o", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{notCounted, notCounted, {usage.AttrOutcome: "blocked"}},
		},
		{
			// LiteLLM v2 pre-call block: no LLM span at all, the guardrail
			// span is the one record of the blocked call.
			name: "LiteLLM v2 pre-call block without LLM span",
			spans: []traceSpan{
				root("POST /v1/chat/completions", server, map[string]any{"http.response.status_code": 400}),
				child(0, "execute_guardrail presidio", internal, map[string]any{
					"litellm.guardrail.name": "presidio", "litellm.guardrail.mode": "pre_call",
					"litellm.guardrail.status": "guardrail_intervened", "gen_ai.request.model": "gpt-4o",
				}),
			},
			want: []map[string]any{notCounted, {
				usage.AttrOutcome: "blocked", usage.AttrCostPicoUSD: int64(0), usage.AttrUnpriced: absent,
			}},
		},
		{
			// A post-call guardrail blocked the answer the model wrote: billed.
			name: "post-call guardrail filters",
			spans: []traceSpan{
				root("POST /v1/chat/completions", server, nil),
				child(0, "chat gpt-4o", client, openAIChatAttrs(nil)),
				child(0, "execute_guardrail lakera", internal, map[string]any{
					"litellm.guardrail.name": "lakera", "litellm.guardrail.mode": "post_call",
					"litellm.guardrail.status": "guardrail_intervened",
				}),
			},
			want: []map[string]any{notCounted, {usage.AttrOutcome: "ok", usage.AttrFiltered: true}, notCounted},
		},
		{
			// NeMo Guardrails: an input rail that stopped the request; no
			// model ran for it.
			name: "NeMo input rail stop",
			spans: []traceSpan{
				root("guardrails.request", server, nil),
				child(0, "guardrails.rail", internal, map[string]any{
					"rail.type": "input", "rail.name": "self check input", "rail.stop": true,
				}),
			},
			want: []map[string]any{notCounted, {usage.AttrOutcome: "blocked"}},
		},
		{
			// NeMo: a rail that let the request through; its self-check LLM
			// call is real spend.
			name: "NeMo rail passing with its self-check call",
			spans: []traceSpan{
				root("guardrails.request", server, nil),
				child(0, "guardrails.rail", internal, map[string]any{"rail.type": "input", "rail.stop": false}),
				child(1, "chat gpt-4o-mini", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{notCounted, notCounted, {usage.AttrOutcome: "ok"}},
		},
		{
			// LiteLLM v1: a guardrail span (openinference GUARDRAIL) under
			// litellm_request that failed.
			name: "LiteLLM v1 guardrail child span",
			spans: []traceSpan{
				root("litellm_request", internal, map[string]any{
					"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
				}),
				func() traceSpan {
					s := child(0, "guardrail", internal, map[string]any{
						"openinference.span.kind": "GUARDRAIL", "guardrail_name": "aporia",
						"guardrail_mode": "pre_call",
					})
					s.status = ptrace.StatusCodeError
					return s
				}(),
			},
			want: []map[string]any{{usage.AttrOutcome: "blocked"}, notCounted},
		},
		{
			// APISIX ai-rate-limiting rejects with 503 by default: a user
			// condition says so.
			name: "user rate-limit condition",
			cfg: func(cfg *Config) {
				cfg.Outcomes.RateLimited = []string{`attributes["http.response.status_code"] == 503`}
				cfg.Outcomes.Blocked = []string{`attributes["guard.verdict"] == "deny"`}
			},
			spans: []traceSpan{
				failed(root("chat", client, openAIChatAttrs(map[string]any{
					"http.response.status_code": int64(503),
				})), "503"),
				root("chat", client, openAIChatAttrs(map[string]any{"guard.verdict": "deny"})),
				root("chat", client, openAIChatAttrs(nil)),
			},
			want: []map[string]any{
				{usage.AttrOutcome: "rate_limited"}, {usage.AttrOutcome: "blocked"}, {usage.AttrOutcome: "ok"},
			},
		},
		{
			// Conditions run only on calls: an HTTP span stays untouched.
			name: "user conditions never make a call",
			cfg: func(cfg *Config) {
				cfg.Outcomes.RateLimited = []string{`attributes["http.response.status_code"] == 429`}
			},
			spans: []traceSpan{root("POST", server, map[string]any{
				"http.response.status_code": int64(429), "gen_ai.agent.name": "bot",
			})},
			want: []map[string]any{notCounted},
		},
	})
}
