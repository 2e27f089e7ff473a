package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// Attributes and events that tell how a call ended.
const (
	attrErrorType        = "error.type"
	attrFinishReasons    = "gen_ai.response.finish_reasons"
	eventException       = "exception"
	attrExceptionType    = "exception.type"
	attrExceptionMessage = "exception.message"
)

// The signals below are all the processor knows about how a failed call
// ended. Error types are compared whole and without regard to case, also
// after the last dot ("openai.RateLimitError"); phrases are looked for, in
// any case, in the span's status message and in its exception events'
// message and type.
var (
	// rateLimitErrorTypes are error.type values of a throttled call: SDK
	// exception names, HTTP status codes and provider error codes.
	rateLimitErrorTypes = []string{
		"RateLimitError", "rate_limit_error", "429", "ThrottlingException",
		"TooManyRequests", "TooManyRequestsException", "rate_limit_exceeded",
		"RateLimitExceeded", "RESOURCE_EXHAUSTED",
	}
	// rateLimitPhrases say a call was throttled. A phrase that starts or ends
	// with a digit matches only where no other digit adjoins it.
	rateLimitPhrases = []string{
		"rate limit", "rate-limit", "ratelimit", "rate_limit", "too many requests",
		"429", "throttl", "quota exceeded", "exceeded your current quota",
		"resource_exhausted", "resource exhausted",
	}
	// blockedErrorTypes are error.type values of a call a guardrail or
	// content policy refused.
	blockedErrorTypes = []string{
		"ContentPolicyViolationError", "content_policy_violation", "content_filter",
		"guardrail_intervened",
	}
	// blockedPhrases say a guardrail or content policy refused a call.
	blockedPhrases = []string{
		"guardrail", "content_policy_violation", "content policy",
		"content management policy", "content_filter", "content filter",
		"responsibleaipolicyviolation",
	}
)

// finishContentFilter is the finish reason of an answer a content filter cut.
const finishContentFilter = "content_filter"

// classifyOutcome says how a call ended. Only a failed call (status ERROR or
// an error.type) can be rate-limited, blocked or an error; a rate limit is
// recognized before a guardrail.
func classifyOutcome(span ptrace.Span) usage.Outcome {
	attrs := span.Attributes()
	errorType := stringAttr(attrs, attrErrorType)
	failed := span.Status().Code() == ptrace.StatusCodeError || errorType != ""
	if !failed {
		return usage.OutcomeOK
	}
	if matchesType(errorType, rateLimitErrorTypes) || failureSays(span, rateLimitPhrases) {
		return usage.OutcomeRateLimited
	}
	if matchesType(errorType, blockedErrorTypes) || failureSays(span, blockedPhrases) {
		return usage.OutcomeBlocked
	}
	return usage.OutcomeError
}

// isFiltered reports whether a finish reason says a content filter cut the
// answer. Instrumentations write the reasons as an array or, some, as one
// string.
func isFiltered(attrs pcommon.Map) bool {
	v, ok := attrs.Get(attrFinishReasons)
	if !ok {
		return false
	}
	switch v.Type() {
	case pcommon.ValueTypeSlice:
		reasons := v.Slice()
		for i := 0; i < reasons.Len(); i++ {
			r := reasons.At(i)
			if r.Type() == pcommon.ValueTypeStr && strings.EqualFold(r.Str(), finishContentFilter) {
				return true
			}
		}
	case pcommon.ValueTypeStr:
		return strings.EqualFold(v.Str(), finishContentFilter)
	}
	return false
}

// matchesType reports whether errorType, or its part after the last dot, is
// one of types.
func matchesType(errorType string, types []string) bool {
	if errorType == "" {
		return false
	}
	short := errorType[strings.LastIndexByte(errorType, '.')+1:]
	for _, t := range types {
		if strings.EqualFold(errorType, t) || strings.EqualFold(short, t) {
			return true
		}
	}
	return false
}

// failureSays reports whether the span's status message or one of its
// exception events contains one of phrases.
func failureSays(span ptrace.Span, phrases []string) bool {
	if containsAny(span.Status().Message(), phrases) {
		return true
	}
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		e := events.At(i)
		if e.Name() != eventException {
			continue
		}
		attrs := e.Attributes()
		if containsAny(stringAttr(attrs, attrExceptionMessage), phrases) ||
			containsAny(stringAttr(attrs, attrExceptionType), phrases) {
			return true
		}
	}
	return false
}

func containsAny(text string, phrases []string) bool {
	if text == "" {
		return false
	}
	for _, p := range phrases {
		if containsPhrase(text, p) {
			return true
		}
	}
	return false
}

// containsPhrase reports whether text contains phrase, an ASCII lower-case
// string, ignoring ASCII case. A phrase starting or ending with a digit does
// not match inside a longer number ("429" is not found in "14290"). It does
// not allocate.
func containsPhrase(text, phrase string) bool {
	for i := 0; i+len(phrase) <= len(text); i++ {
		if !equalFoldASCII(text[i:i+len(phrase)], phrase) {
			continue
		}
		if isDigit(phrase[0]) && i > 0 && isDigit(text[i-1]) {
			continue
		}
		end := i + len(phrase)
		if isDigit(phrase[len(phrase)-1]) && end < len(text) && isDigit(text[end]) {
			continue
		}
		return true
	}
	return false
}

// equalFoldASCII compares s with lower, an ASCII lower-case string of the
// same length, ignoring the case of ASCII letters in s.
func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
