package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
)

// Attributes of the OpenTelemetry GenAI semantic conventions that decide
// whether a span is a call and what it called.
const (
	attrOperationName = "gen_ai.operation.name"
	attrProviderName  = "gen_ai.provider.name"
	attrSystem        = "gen_ai.system" // deprecated name of gen_ai.provider.name
	attrRequestModel  = "gen_ai.request.model"
	attrResponseModel = "gen_ai.response.model"
)

// unknownValue stands for a provider, model or agent the span does not name.
const unknownValue = "unknown"

// call is what the processor derived from one span that is a billable call.
type call struct {
	identity

	provider string
	model    string
	outcome  usage.Outcome

	tokens pricing.Tokens
	// hasUsage is true when the span reported at least one token count;
	// hasCacheRead, hasCacheWrite and hasReasoning when it reported that one.
	hasUsage      bool
	hasCacheRead  bool
	hasCacheWrite bool
	hasReasoning  bool

	// costPicoUSD is the exact cost; meaningful only when priced is true.
	costPicoUSD int64
	priced      bool

	filtered     bool
	malformed    bool
	unpriced     bool
	usageMissing bool
}

// isCounted reports whether a collector in front of this one already
// counted the span; its usage attributes then hold normalized values.
func isCounted(attrs pcommon.Map) bool {
	v, ok := attrs.Get(usage.AttrCounted)
	return ok && v.Type() == pcommon.ValueTypeBool && v.Bool()
}

// isCall reports whether span is one billable call: a model inference or
// embedding, or an invocation of a remote agent. An in-process invoke_agent
// span sums up the calls beneath it and is not a call itself. A span from an
// instrumentation older than gen_ai.operation.name is a model call when it
// names a provider and a model. isCall does not allocate.
func isCall(span ptrace.Span) bool {
	attrs := span.Attributes()
	switch operation(attrs) {
	case "chat", "generate_content", "text_completion", "embeddings":
		return true
	case "invoke_agent":
		return span.Kind() == ptrace.SpanKindClient
	case "":
		return (hasString(attrs, attrProviderName) || hasString(attrs, attrSystem)) &&
			(hasString(attrs, attrResponseModel) || hasString(attrs, attrRequestModel))
	default:
		return false
	}
}

func operation(attrs pcommon.Map) string {
	v, ok := attrs.Get(attrOperationName)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

// hasString reports whether attrs holds key as a non-empty string.
func hasString(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	return ok && v.Type() == pcommon.ValueTypeStr && v.Str() != ""
}

// stringAttr returns the value of the first of keys that attrs holds as a
// non-empty string, made valid UTF-8 and trimmed.
func stringAttr(attrs pcommon.Map, keys ...string) string {
	for _, key := range keys {
		v, ok := attrs.Get(key)
		if !ok || v.Type() != pcommon.ValueTypeStr {
			continue
		}
		if s := identityValue(v.Str()); s != "" {
			return s
		}
	}
	return ""
}
