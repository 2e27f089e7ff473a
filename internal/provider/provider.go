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
}

// Normalize returns the well-known name of the provider an instrumentation
// reported as name. It lower-cases name, maps former spellings ("az.ai.openai",
// "xai", "gemini", ...) to the current ones, and maps a known provider followed
// by an API suffix ("openai.chat", "anthropic.messages") to that provider.
// A name it does not know is returned lower-cased and otherwise as reported;
// an empty name is [Unknown].
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

// lower returns s in lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
