package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/provider"
	"github.com/usageledger/usageledger/internal/usage"
)

// providerAttrs are the attributes naming a call's provider, in order: the
// semantic conventions' current and deprecated names, OpenInference's host
// (llm.provider, e.g. "azure") before its vendor (llm.system, e.g.
// "openai"), then the Vercel AI SDK's.
var providerAttrs = [...]struct {
	key string
	fam families
}{
	{attrProviderName, famGenAI}, {attrSystem, famGenAI},
	{attrOIProvider, famLLM}, {attrOISystem, famLLM}, {attrAIProvider, famVercel},
}

// providerOf returns the normalized provider of a call: the first of
// providerAttrs that names one (a framework's name such as
// "strands-agents" names none), else the provider whose API host
// server.address is, else "unknown".
func providerOf(attrs pcommon.Map, fam families) string {
	for _, a := range providerAttrs {
		if fam&a.fam == 0 {
			continue
		}
		if name := str(attrs, a.key); name != "" {
			if p := provider.Normalize(name); p != provider.Unknown {
				return p
			}
		}
	}
	return provider.FromServer(str(attrs, attrServerAddress))
}

// Prefixes of targets that are not model providers.
const (
	toolTargetPrefix = "tool:"
	mcpTargetPrefix  = "mcp:"
)

// toolName returns the name of the tool a tool or MCP call ran.
func toolName(attrs pcommon.Map) string {
	if name := stringAttr(attrs, attrToolName, attrOIToolName, attrAIToolName); name != "" {
		return name
	}
	return unknownValue
}

// targetOf returns the resource end of a call's connection: its provider
// for a model call or remote agent, "tool:<name>" for a tool, and
// "mcp:<server>" for an MCP server, the server being the address the client
// called ("unknown" over stdio, where there is none).
func targetOf(kind usage.CallKind, providerName string, attrs pcommon.Map) string {
	switch kind {
	case usage.CallTool:
		return toolTargetPrefix + toolName(attrs)
	case usage.CallMCP:
		server := stringAttr(attrs, attrServerAddress)
		if server == "" {
			server = unknownValue
		}
		return mcpTargetPrefix + server
	default:
		return providerName
	}
}

// knownEstimate reports whether the instrumentation that wrote the span is
// known to estimate its token counts rather than report the provider's:
// the OpenTelemetry botocore instrumentation estimates the usage of Cohere
// Command and Mistral models called through Bedrock's InvokeModel from the
// length of the text.
func knownEstimate(scope string, attrs pcommon.Map, providerName, model string) bool {
	return providerName == "aws.bedrock" &&
		strings.HasPrefix(scope, "opentelemetry.instrumentation.botocore") &&
		str(attrs, "rpc.method") == "InvokeModel" &&
		(strings.Contains(model, "cohere.command") || strings.Contains(model, "mistral."))
}
