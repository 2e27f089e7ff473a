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
	attrAIFinishReason   = "ai.response.finishReason"
	attrOIFinishReason   = "llm.finish_reason" // OpenInference, one string
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

// Finish reasons that tell how an answer ended.
const (
	// finishContentFilter: a content filter cut the answer (Azure OpenAI,
	// OpenAI); content_filtered is Bedrock's spelling.
	finishContentFilter   = "content_filter"
	finishContentFiltered = "content_filtered"
	// finishGuardrail is Bedrock's stop reason when a guardrail intervened.
	finishGuardrail = "guardrail_intervened"
)

// Status codes of a throttled request, as integers on HTTP spans and as
// LiteLLM's error codes.
var rateLimitCodeAttrs = [...]string{
	"http.response.status_code", "http.status_code", "error.code", "litellm.provider.error.code",
}

// rateLimitCodeSlots are the slots of rateLimitCodeAttrs, in their order.
var rateLimitCodeSlots = [...]attrSlot{
	slotHTTPStatusCode, slotHTTPStatusCodeOld, slotErrorCode, slotLiteLLMErrorCode,
}

// classifyOutcome says how a call ended, as spanAttrs.classifyOutcome does.
func classifyOutcome(span ptrace.Span, fam families, outputTokens int64) usage.Outcome {
	var a spanAttrs
	a.read(span.Attributes(), nil)
	return a.classifyOutcome(span, fam, outputTokens)
}

// classifyOutcome says how span, whose attributes a holds, ended. A failed
// call (status ERROR or an error.type) is rate-limited, blocked or an
// error, a rate limit being recognized before a guardrail. A call that did
// not fail is blocked when a guardrail on the span says it intervened (and,
// for Bedrock's guardrail_intervened finish reason, the model wrote
// nothing), else ok.
func (a *spanAttrs) classifyOutcome(
	span ptrace.Span,
	fam families,
	outputTokens int64,
) usage.Outcome {
	errorType := a.stringAttr(slotErrorType)
	failed := span.Status().Code() == ptrace.StatusCodeError || errorType != ""
	guarded := fam&famGuardrail != 0 && a.guardrailIntervened()
	if !failed {
		if guarded || outputTokens == 0 && a.finishSays(fam)&finishGuardrailBit != 0 {
			return usage.OutcomeBlocked
		}
		return usage.OutcomeOK
	}
	if matchesType(errorType, rateLimitErrorTypes) || a.hasRateLimitCode() ||
		failureSays(span, rateLimitPhrases) {
		return usage.OutcomeRateLimited
	}
	if matchesType(errorType, blockedErrorTypes) || guarded ||
		failureSays(span, blockedPhrases) {
		return usage.OutcomeBlocked
	}
	return usage.OutcomeError
}

// hasRateLimitCode reports whether a status code attribute is 429.
func (a *spanAttrs) hasRateLimitCode() bool {
	for _, s := range rateLimitCodeSlots {
		v, ok := a.value(s)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeInt:
			if v.Int() == 429 {
				return true
			}
		case pcommon.ValueTypeStr:
			if v.Str() == "429" {
				return true
			}
		}
	}
	return false
}

// isFiltered reports whether a finish reason says a content filter cut the
// answer, or a guardrail intervened in an answer the model wrote.
func isFiltered(attrs pcommon.Map, fam families) bool {
	var a spanAttrs
	a.read(attrs, nil)
	return a.finishSays(fam) != 0
}

// Finish reasons finishSays recognizes, as bits.
const (
	finishFilterBit = 1 << iota
	finishGuardrailBit
)

// attrAIFinishFilter is the Vercel AI SDK's finish reason for a filtered
// answer, in ai.response.finishReason.
const attrAIFinishFilter = "content-filter"

// shortestFinishReason is the length of the shortest finish reason
// finishBit recognizes.
const shortestFinishReason = min(len(finishContentFilter), len(finishContentFiltered),
	len(attrAIFinishFilter), len(finishGuardrail))

// finishSays returns which of the recognized finish reasons the span
// reports, in any case. Instrumentations write the reasons as an array or,
// some, as one string; the Vercel AI SDK as ai.response.finishReason,
// OpenInference as llm.finish_reason.
func (a *spanAttrs) finishSays(fam families) int {
	bits := a.finishReasonBits(slotFinishReasons)
	if fam&famVercel != 0 {
		bits |= a.finishReasonBits(slotAIFinishReason)
	}
	if fam&famLLM != 0 {
		bits |= a.finishReasonBits(slotOIFinishReason)
	}
	return bits
}

func (a *spanAttrs) finishReasonBits(s attrSlot) int {
	v, ok := a.value(s)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeSlice:
		bits := 0
		reasons := v.Slice()
		for i := 0; i < reasons.Len(); i++ {
			if r := reasons.At(i); r.Type() == pcommon.ValueTypeStr {
				bits |= finishBit(r.Str())
			}
		}
		return bits
	case pcommon.ValueTypeStr:
		return finishBit(v.Str())
	}
	return 0
}

func finishBit(reason string) int {
	// The reasons recognized are ASCII, so one equal to them in any case
	// has at least as many bytes: most reasons ("stop", "length",
	// "tool_calls") are shorter and need no comparison.
	if len(reason) < shortestFinishReason {
		return 0
	}
	switch {
	case strings.EqualFold(reason, finishContentFilter), strings.EqualFold(reason, finishContentFiltered),
		strings.EqualFold(reason, attrAIFinishFilter):
		return finishFilterBit
	case strings.EqualFold(reason, finishGuardrail):
		return finishGuardrailBit
	}
	return 0
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
