// Package provider names the model providers a GenAI call goes to, in the
// spelling of the OpenTelemetry GenAI semantic conventions' well-known values
// of gen_ai.provider.name, so that one provider has one name in connections
// and in the price table whatever an instrumentation reported.
package provider // import "github.com/usageledger/usageledger/internal/provider"

import "strings"

// Unknown is the provider of a call that reported none.
const Unknown = "unknown"

// wellKnown holds the semantic conventions' well-known provider values.
var wellKnown = map[string]struct{}{
	"anthropic":               {},
	"aws.bedrock":             {},
	"azure.ai.inference":      {},
	"azure.ai.openai":         {},
	"azure.ai.content_safety": {},
	"cohere":                  {},
	"deepseek":                {},
	"gcp.gemini":              {},
	"gcp.gen_ai":              {},
	"gcp.vertex_ai":           {},
	"groq":                    {},
	"ibm.watsonx.ai":          {},
	"mistral_ai":              {},
	"moonshot_ai":             {},
	"openai":                  {},
	"perplexity":              {},
	"x_ai":                    {},
}

// formerNames maps spellings used by older versions of the conventions (the
// deprecated gen_ai.system) to the well-known value.
var formerNames = map[string]string{
	"az.ai.openai":    "azure.ai.openai",
	"az.ai.inference": "azure.ai.inference",
	"xai":             "x_ai",
	"gemini":          "gcp.gemini",
	"vertex_ai":       "gcp.vertex_ai",
	"mistralai":       "mistral_ai",

	// Dialect spellings: OpenInference llm.provider and llm.system, LiteLLM's
	// custom_llm_provider, the Vercel AI SDK's provider ids.
	"azure":                "azure.ai.openai",
	"azure_ai":             "azure.ai.inference",
	"bedrock":              "aws.bedrock",
	"amazon-bedrock":       "aws.bedrock",
	"aws":                  "aws.bedrock",
	"vertexai":             "gcp.vertex_ai",
	"google.vertex":        "gcp.vertex_ai",
	"google.generative-ai": "gcp.gemini",
	"google":               "gcp.gemini",
	"mistral":              "mistral_ai",
	"watsonx":              "ibm.watsonx.ai",
	"moonshot":             "moonshot_ai",
}

// frameworks are names that instrumentations of agent frameworks write
// where a provider belongs (Strands sets gen_ai.system to "strands-agents"
// on every span). They say nothing about who served the call.
var frameworks = map[string]struct{}{
	"strands-agents":  {},
	"strands":         {},
	"langchain":       {},
	"langgraph":       {},
	"llama_index":     {},
	"llamaindex":      {},
	"crewai":          {},
	"pydantic-ai":     {},
	"pydantic_ai":     {},
	"semantic_kernel": {},
	"autogen":         {},
	"haystack":        {},
	"spring_ai":       {},
}

// Normalize returns the well-known name of the provider an instrumentation
// reported as name. It lower-cases name, maps former spellings ("az.ai.openai",
// "xai", "gemini", ...) to the current ones, and maps a known provider followed
// by an API suffix ("openai.chat", "anthropic.messages") to that provider.
// A name it does not know is returned lower-cased and otherwise as reported;
// an empty name, and the name of an agent framework ("strands-agents"), is
// [Unknown].
//
// Normalize does not allocate when name is already lower case.
func Normalize(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return Unknown
	}
	name = lower(name)
	if _, ok := wellKnown[name]; ok {
		return name
	}
	if current, ok := formerNames[name]; ok {
		return current
	}
	if _, ok := frameworks[name]; ok {
		return Unknown
	}
	// "openai.chat", "openai.responses", "anthropic.messages": the longest
	// known prefix before a dot wins, so "azure.ai.openai.chat" stays Azure.
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '.' {
			continue
		}
		prefix := name[:i]
		if _, ok := wellKnown[prefix]; ok {
			return prefix
		}
		if current, ok := formerNames[prefix]; ok {
			return current
		}
	}
	return name
}

// IsNormalized reports whether name is already in the form Normalize returns.
func IsNormalized(name string) bool {
	return name != "" && Normalize(name) == name
}

// hosts maps the API host of a provider to its well-known name, for calls
// whose span names no provider but the server it called.
var hosts = map[string]string{
	"api.openai.com":                    "openai",
	"api.anthropic.com":                 "anthropic",
	"generativelanguage.googleapis.com": "gcp.gemini",
	"api.mistral.ai":                    "mistral_ai",
	"api.cohere.com":                    "cohere",
	"api.cohere.ai":                     "cohere",
	"api.groq.com":                      "groq",
	"api.deepseek.com":                  "deepseek",
	"api.x.ai":                          "x_ai",
	"api.perplexity.ai":                 "perplexity",
	"api.moonshot.ai":                   "moonshot_ai",
}

// FromServer returns the provider serving the API at host (a server.address
// value), or [Unknown]. Besides the hosts of the public APIs it knows the
// regional hosts of AWS Bedrock ("bedrock-runtime.<region>.amazonaws.com"),
// Azure OpenAI ("<resource>.openai.azure.com") and Vertex AI
// ("<region>-aiplatform.googleapis.com"). FromServer does not allocate when
// host is lower case.
func FromServer(host string) string {
	host = lower(strings.TrimSpace(host))
	if p, ok := hosts[host]; ok {
		return p
	}
	switch {
	case strings.HasPrefix(host, "bedrock-runtime.") && strings.HasSuffix(host, ".amazonaws.com"),
		strings.HasPrefix(host, "bedrock-agent-runtime.") && strings.HasSuffix(host, ".amazonaws.com"):
		return "aws.bedrock"
	case strings.HasSuffix(host, ".openai.azure.com"):
		return "azure.ai.openai"
	case strings.HasSuffix(host, "aiplatform.googleapis.com"):
		return "gcp.vertex_ai"
	}
	return Unknown
}

// lower returns s in lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
