package genaiusageprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

func TestClassifyOutcome(t *testing.T) {
	const failed = ptrace.StatusCodeError
	tests := []struct {
		name      string
		status    ptrace.StatusCode
		message   string
		errorType string
		exception map[string]any
		want      usage.Outcome
	}{
		{name: "unset status", want: usage.OutcomeOK},
		{name: "ok status", status: ptrace.StatusCodeOk, want: usage.OutcomeOK},
		{name: "ok status ignores a recovered exception", status: ptrace.StatusCodeOk,
			exception: map[string]any{"exception.message": "429 Too Many Requests"}, want: usage.OutcomeOK},

		{name: "RateLimitError", status: failed, errorType: "RateLimitError", want: usage.OutcomeRateLimited},
		{name: "error.type alone marks a failure", errorType: "RateLimitError", want: usage.OutcomeRateLimited},
		{name: "qualified name", status: failed, errorType: "openai.RateLimitError", want: usage.OutcomeRateLimited},
		{name: "HTTP code", status: failed, errorType: "429", want: usage.OutcomeRateLimited},
		{name: "Bedrock", status: failed, errorType: "ThrottlingException", want: usage.OutcomeRateLimited},
		{name: "TooManyRequests", status: failed, errorType: "toomanyrequests", want: usage.OutcomeRateLimited},
		{name: "OpenAI code", status: failed, errorType: "rate_limit_exceeded", want: usage.OutcomeRateLimited},
		{name: "gRPC code", status: failed, errorType: "RESOURCE_EXHAUSTED", want: usage.OutcomeRateLimited},
		{name: "status message", status: failed, message: "Rate limit reached",
			want: usage.OutcomeRateLimited},
		{name: "status message with code", status: failed, errorType: "APIError",
			message: "Error code: 429", want: usage.OutcomeRateLimited},
		{name: "quota", status: failed, message: "Quota exceeded for aiplatform", want: usage.OutcomeRateLimited},
		{name: "throttled", status: failed, message: "Request was throttled", want: usage.OutcomeRateLimited},
		{name: "exception message", status: failed,
			exception: map[string]any{"exception.type": "AI_APICallError", "exception.message": "Too Many Requests"},
			want:      usage.OutcomeRateLimited},
		{name: "exception type", status: failed,
			exception: map[string]any{"exception.type": "anthropic.RateLimitError"}, want: usage.OutcomeRateLimited},
		{name: "429 inside a longer number is not a rate limit", status: failed,
			message: "request 14290 failed", want: usage.OutcomeError},

		{name: "guardrail in status message", status: failed, errorType: "BadRequestError",
			message: "400 Request blocked by guardrail policy", want: usage.OutcomeBlocked},
		{name: "content policy code", status: failed, message: "code: content_policy_violation",
			want: usage.OutcomeBlocked},
		{name: "Azure content management policy", status: failed, errorType: "BadRequestError",
			message: "The response was filtered due to the prompt triggering Azure OpenAI's " +
				"content management policy", want: usage.OutcomeBlocked},
		{name: "blocked error type", status: failed, errorType: "ContentPolicyViolationError",
			want: usage.OutcomeBlocked},
		{name: "guardrail in exception", status: failed,
			exception: map[string]any{"exception.message": "Guardrail intervened"}, want: usage.OutcomeBlocked},
		{name: "rate limit wins over guardrail", status: failed, errorType: "RateLimitError",
			message: "guardrail quota", want: usage.OutcomeRateLimited},

		{name: "other error type", status: failed, errorType: "APIConnectionError", want: usage.OutcomeError},
		{name: "error status only", status: failed, message: "connection reset", want: usage.OutcomeError},
		{name: "error.type without status", errorType: "_OTHER", want: usage.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := map[string]any{}
			if tt.errorType != "" {
				attrs["error.type"] = tt.errorType
			}
			_, span := newTraces(t, spanSpec{
				attrs: attrs, status: tt.status, message: tt.message, exception: tt.exception,
			})
			assert.Equal(t, tt.want, classifyOutcome(span, attributeFamilies(span.Attributes()), 0))
		})
	}
}

func TestIsFiltered(t *testing.T) {
	f := func(reasons any, want bool) {
		t.Helper()
		attrs := pcommon.NewMap()
		require.NoError(t, attrs.FromRaw(map[string]any{"gen_ai.response.finish_reasons": reasons}))
		assert.Equal(t, want, isFiltered(attrs, attributeFamilies(attrs)), "%#v", reasons)
	}
	f([]any{"content_filter"}, true)
	f([]any{"stop", "content_filter"}, true)
	f([]any{"CONTENT_FILTER"}, true)
	f("content_filter", true)
	f([]any{"stop"}, false)
	f([]any{int64(1)}, false)
	f(int64(3), false)
	assert.False(t, isFiltered(pcommon.NewMap(), 0))
}

func TestFilteredCallIsBilledAsOK(t *testing.T) {
	p := newTestProcessor(t, nil)
	got := process(t, p, spanSpec{attrs: chat(map[string]any{
		"gen_ai.response.finish_reasons": []any{"content_filter"},
		"gen_ai.usage.input_tokens":      120, "gen_ai.usage.output_tokens": 30,
	})})
	assert.Equal(t, "ok", got[usage.AttrOutcome])
	assert.Equal(t, true, got[usage.AttrFiltered])
	// Priced as usual: 120×150,000 + 30×600,000 = 36,000,000.
	assert.Equal(t, int64(36_000_000), got[usage.AttrCostPicoUSD])

	// A failed call is not filtered, whatever its finish reasons.
	got = process(t, p, spanSpec{status: ptrace.StatusCodeError, attrs: chat(map[string]any{
		"gen_ai.response.finish_reasons": []any{"content_filter"},
	})})
	assert.NotContains(t, got, usage.AttrFiltered)
}
