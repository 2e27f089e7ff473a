package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
)

// Attributes that decide whether a span is a call and what it called, in
// the dialects the processor reads.
const (
	// OpenTelemetry GenAI semantic conventions.
	attrOperationName = "gen_ai.operation.name"
	attrProviderName  = "gen_ai.provider.name"
	attrSystem        = "gen_ai.system" // deprecated name of gen_ai.provider.name
	attrRequestModel  = "gen_ai.request.model"
	attrResponseModel = "gen_ai.response.model"
	attrResponseID    = "gen_ai.response.id"
	attrToolName      = "gen_ai.tool.name"
	attrServerAddress = "server.address"
	// gen_ai.aggregated_usage.* (pydantic-ai agent runs) sums the calls
	// beneath a span; a span carrying it is never a call.
	attrAggregatedInput  = "gen_ai.aggregated_usage.input_tokens"
	attrAggregatedOutput = "gen_ai.aggregated_usage.output_tokens"

	// MCP conventions.
	attrMCPMethod = "mcp.method.name"

	// OpenInference.
	attrOISpanKind      = "openinference.span.kind"
	attrOIProvider      = "llm.provider"
	attrOISystem        = "llm.system"
	attrOIModel         = "llm.model_name"
	attrOIRequestModel  = "llm.request.model_name"
	attrOIResponseModel = "llm.response.model_name"
	// attrOIEmbeddingModel names the model of an EMBEDDING span, which has
	// no llm.model_name.
	attrOIEmbeddingModel = "embedding.model_name"
	attrOIToolName       = "tool.name"

	// OpenLLMetry before its move to gen_ai.* names.
	attrLLMRequestType = "llm.request.type"
	attrTraceloopKind  = "traceloop.span.kind"

	// Vercel AI SDK.
	attrAIOperationID = "ai.operationId"
	attrAIProvider    = "ai.model.provider"
	attrAIModel       = "ai.model.id"
	attrAIRespModel   = "ai.response.model"
	attrAIResponseID  = "ai.response.id"
	attrAIToolName    = "ai.toolCall.name"
)

// unknownValue stands for a provider, model or agent the span does not name.
const unknownValue = "unknown"

// call is what the processor derived from one span that is a billable call.
type call struct {
	identity

	kind          usage.CallKind
	provider      string
	target        string
	requestModel  string
	responseModel string
	// requestModelNamed and responseModelNamed are true when the span
	// carries that model under its standard name already;
	// requestModelHeld and responseModelHeld when it carries the standard
	// name at all, whatever its value.
	requestModelNamed  bool
	responseModelNamed bool
	requestModelHeld   bool
	responseModelHeld  bool
	model              string
	outcome            usage.Outcome
	// responseID is the provider's id of the response, or "".
	responseID string

	tokens pricing.Tokens
	// held is what the span carries under the standard token count names,
	// in the order of standardCounts, as read before anything is written.
	held [len(standardCounts)]heldCount
	// hasUsage is true when the span reported at least one token count;
	// hasCacheRead, hasCacheWrite and hasReasoning when it reported that one.
	hasUsage      bool
	hasCacheRead  bool
	hasCacheWrite bool
	hasReasoning  bool

	// pricedAt is the instant the call was priced at in unix nanoseconds,
	// when that was not its span's end; 0 otherwise.
	pricedAt int64

	// costPicoUSD is the exact cost; meaningful only when priced is true.
	costPicoUSD int64
	priced      bool
	// serviceTier is the service tier the span reports, in lower case.
	serviceTier string
	// reportedUSD is the cost the span itself reports, when hasReportedCost.
	reportedUSD     float64
	hasReportedCost bool
	// costFromSpan is true when costPicoUSD is the span's own cost;
	// costCompared when costDiffPicoUSD holds the span's cost minus the
	// computed one.
	costFromSpan    bool
	costCompared    bool
	costDiffPicoUSD int64

	// adjustedCount is the number of calls the span stands for after head
	// sampling upstream; 0 or 1 when it was not sampled.
	adjustedCount float64

	filtered       bool
	malformed      bool
	unpriced       bool
	usageMissing   bool
	usageEstimated bool
}

// isCounted reports whether a collector in front of this one already
// counted the span, or found it to repeat a call another span counts; its
// usage attributes then hold normalized values. A counted span carries the
// organization, connection, outcome and model the collector derived: a
// counted mark without them is none of a collector's (a client set it, or
// the span lost attributes on the way), and the exporter would book the
// call under empty names at no cost.
func isCounted(attrs pcommon.Map) bool {
	if isTrue(attrs, usage.AttrDuplicate) {
		return true
	}
	return isTrue(attrs, usage.AttrCounted) &&
		isName(attrs, usage.AttrOrg) && isName(attrs, usage.AttrConnection) &&
		isName(attrs, usage.AttrOutcome) && isName(attrs, usage.AttrModel)
}

// isTrue reports whether attrs holds the bool true under key.
func isTrue(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	return ok && v.Type() == pcommon.ValueTypeBool && v.Bool()
}

// isName reports whether attrs holds a non-empty string under key.
func isName(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	return ok && v.Type() == pcommon.ValueTypeStr && v.Str() != ""
}

// callKind says what span called when it is one leaf call to count, and
// returns "" for every other span: aggregates (in-process agents, workflows,
// agent steps, framework wrappers, OpenInference AGENT and CHAIN spans, any
// span with gen_ai.aggregated_usage.*), MCP server spans, and tool
// executions when tools are not counted. The dialects are tried in order;
// the first that says anything about the span decides. callKind does not
// allocate.
func callKind(span ptrace.Span, fam families, countTools bool) usage.CallKind {
	attrs := span.Attributes()
	if fam&famAggregated != 0 && (has(attrs, attrAggregatedInput) || has(attrs, attrAggregatedOutput)) {
		return ""
	}
	server := span.Kind() == ptrace.SpanKindServer
	mcp := fam&famMCP != 0 && hasString(attrs, attrMCPMethod)

	if op := str(attrs, attrOperationName); op != "" {
		switch op {
		case "chat", "generate_content", "text_completion",
			"chat.completions", "text.completions", // Semantic Kernel
			"completion", "responses":
			return usage.CallModel
		case "embeddings", "embedding": // "embedding": Spring AI
			return usage.CallEmbedding
		case "invoke_agent":
			// A remote agent is a call to a resource; an in-process one sums
			// up the calls beneath it.
			if span.Kind() == ptrace.SpanKindClient {
				return usage.CallAgent
			}
			return ""
		case "execute_tool":
			if mcp {
				return mcpKind(attrs, server)
			}
			return toolKind(countTools)
		default:
			return ""
		}
	}
	if mcp {
		return mcpKind(attrs, server)
	}
	if kind := openInferenceKind(attrs, fam); kind != "" {
		switch strings.ToUpper(kind) {
		case "LLM":
			return usage.CallModel
		case "EMBEDDING":
			return usage.CallEmbedding
		case "TOOL":
			return toolKind(countTools)
		default: // AGENT, CHAIN, RETRIEVER, RERANKER, GUARDRAIL, EVALUATOR
			return ""
		}
	}
	if id := vercelOperation(attrs, fam); id != "" {
		switch {
		case strings.HasSuffix(id, ".doGenerate"), strings.HasSuffix(id, ".doStream"):
			return usage.CallModel
		case strings.HasSuffix(id, ".doEmbed"):
			return usage.CallEmbedding
		case id == "ai.toolCall":
			return toolKind(countTools)
		default: // ai.generateText, ai.streamText, ai.embed: wrappers
			return ""
		}
	}
	if fam&famLLM != 0 {
		switch str(attrs, attrLLMRequestType) {
		case "chat", "completion":
			return usage.CallModel
		case "embedding":
			return usage.CallEmbedding
		case "":
		default:
			return ""
		}
	}
	if fam&famTraceloop != 0 {
		switch str(attrs, attrTraceloopKind) {
		case "":
		case "tool":
			return toolKind(countTools)
		default: // workflow, task, agent
			return ""
		}
	}
	// An instrumentation older than gen_ai.operation.name (and LiteLLM's
	// litellm_request span): a provider and a model make a model call.
	if (hasString(attrs, attrProviderName) || hasString(attrs, attrSystem)) &&
		(hasString(attrs, attrResponseModel) || hasString(attrs, attrRequestModel)) {
		return usage.CallModel
	}
	return ""
}

// openInferenceKind returns the span's openinference.span.kind, or "".
func openInferenceKind(attrs pcommon.Map, fam families) string {
	if fam&famOpenInference == 0 {
		return ""
	}
	return str(attrs, attrOISpanKind)
}

// vercelOperation returns the span's Vercel AI SDK ai.operationId, or "".
func vercelOperation(attrs pcommon.Map, fam families) string {
	if fam&famVercel == 0 {
		return ""
	}
	return str(attrs, attrAIOperationID)
}

// mcpKind counts an MCP tools/call request on the client side; the server's
// span of the same request and every other MCP method are not calls.
func mcpKind(attrs pcommon.Map, server bool) usage.CallKind {
	if server {
		return ""
	}
	switch str(attrs, attrMCPMethod) {
	case "tools/call", "":
		return usage.CallMCP
	}
	return ""
}

func toolKind(countTools bool) usage.CallKind {
	if countTools {
		return usage.CallTool
	}
	return ""
}

// str returns attrs[key] when it is a string, else "".
func str(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

func has(attrs pcommon.Map, key string) bool {
	_, ok := attrs.Get(key)
	return ok
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
