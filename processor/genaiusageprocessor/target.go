package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"github.com/usageledger/usageledger/internal/provider"
	"github.com/usageledger/usageledger/internal/usage"
)

// providerSlots are the attributes naming a call's provider, in order: the
// semantic conventions' current and deprecated names, OpenInference's host
// (llm.provider, e.g. "azure") before its vendor (llm.system, e.g.
// "openai"), then the Vercel AI SDK's.
var providerSlots = [...]struct {
	slot attrSlot
	fam  families
}{
	{slotProviderName, famGenAI}, {slotSystem, famGenAI},
	{slotOIProvider, famLLM}, {slotOISystem, famLLM}, {slotAIProvider, famVercel},
}

// providerOf returns the normalized provider of a call: the first of
// providerSlots that names one (a framework's name such as
// "strands-agents" names none), else the provider whose API host
// server.address is, else "unknown". memo remembers the last name
// normalized.
func (a *spanAttrs) providerOf(fam families, memo *providerMemo) string {
	for _, p := range providerSlots {
		if fam&p.fam == 0 {
			continue
		}
		if name := a.str(p.slot); name != "" {
			if normalized := memo.normalize(name); normalized != provider.Unknown {
				return normalized
			}
		}
	}
	return provider.FromServer(a.str(slotServerAddress))
}

// providerMemo remembers the provider name normalized last: the calls of a
// request mostly name one provider, the same way.
type providerMemo struct {
	name, normalized string
}

// normalize returns [provider.Normalize] of name.
func (m *providerMemo) normalize(name string) string {
	if name != m.name {
		m.name, m.normalized = name, provider.Normalize(name)
	}
	return m.normalized
}

// Prefixes of targets that are not model providers.
const (
	toolTargetPrefix = "tool:"
	mcpTargetPrefix  = "mcp:"
)

// toolName returns the name of the tool a tool or MCP call ran.
func (a *spanAttrs) toolName() string {
	if name := a.stringAttr(slotToolName, slotOIToolName, slotAIToolName); name != "" {
		return name
	}
	return unknownValue
}

// targetOf returns the resource end of a call's connection: its provider
// for a model call or remote agent, "tool:<name>" for a tool, and
// "mcp:<server>" for an MCP server, the server being the address the client
// called ("unknown" over stdio, where there is none).
func (a *spanAttrs) targetOf(kind usage.CallKind, providerName string) string {
	switch kind {
	case usage.CallTool:
		return toolTargetPrefix + a.toolName()
	case usage.CallMCP:
		server := a.stringAttr(slotServerAddress)
		if server == "" {
			server = unknownValue
		}
		return mcpTargetPrefix + server
	default:
		return providerName
	}
}

// attrRPCMethod is the RPC method of a call made through an AWS SDK.
const attrRPCMethod = "rpc.method"

// knownEstimate reports whether the instrumentation that wrote the span is
// known to estimate its token counts rather than report the provider's:
// the OpenTelemetry botocore instrumentation estimates the usage of Cohere
// Command and Mistral models called through Bedrock's InvokeModel from the
// length of the text.
func (a *spanAttrs) knownEstimate(scope, providerName, model string) bool {
	return providerName == "aws.bedrock" &&
		strings.HasPrefix(scope, "opentelemetry.instrumentation.botocore") &&
		a.str(slotRPCMethod) == "InvokeModel" &&
		(strings.Contains(model, "cohere.command") || strings.Contains(model, "mistral."))
}
