package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"encoding/json"
)

// The Vercel AI SDK repeats each provider's own usage report, as JSON, in
// ai.response.providerMetadata beside its ai.usage.* and gen_ai.usage.*
// attributes. Those are the provider's numbers and they win: for Anthropic
// they are the only place that tells the cache counts before the SDK's
// LanguageModelV3 usage.
const (
	attrAIProviderMetadata = "ai.response.providerMetadata"
	// attrAIInputDetails is present from LanguageModelV3 on, whose input
	// counts include the cache for every provider.
	attrAIInputDetails = "ai.usage.inputTokenDetails.cacheReadTokens"
	attrAIInputNoCache = "ai.usage.inputTokenDetails.noCacheTokens"
)

// vercelMetadata is the part of ai.response.providerMetadata that reports
// usage. Pointers tell a count that is absent from one that is 0.
type vercelMetadata struct {
	Anthropic *struct {
		Usage *struct {
			InputTokens              *json.Number `json:"input_tokens"`
			OutputTokens             *json.Number `json:"output_tokens"`
			CacheCreationInputTokens *json.Number `json:"cache_creation_input_tokens"`
			CacheReadInputTokens     *json.Number `json:"cache_read_input_tokens"`
			// CacheCreation splits the cache writes by how long they live.
			CacheCreation *struct {
				Ephemeral1h *json.Number `json:"ephemeral_1h_input_tokens"`
			} `json:"cache_creation"`
			ServerToolUse *struct {
				WebSearchRequests *json.Number `json:"web_search_requests"`
			} `json:"server_tool_use"`
		} `json:"usage"`
		CacheCreationInputTokens *json.Number `json:"cacheCreationInputTokens"`
	} `json:"anthropic"`
	OpenAI *struct {
		CachedPromptTokens *json.Number `json:"cachedPromptTokens"`
		ReasoningTokens    *json.Number `json:"reasoningTokens"`
	} `json:"openai"`
	Bedrock *struct {
		Usage *struct {
			CacheReadInputTokens  *json.Number `json:"cacheReadInputTokens"`
			CacheWriteInputTokens *json.Number `json:"cacheWriteInputTokens"`
		} `json:"usage"`
	} `json:"bedrock"`
}

// readVercelUsage corrects the flat counts of a Vercel AI SDK span with the
// provider's own numbers and reports whether the metadata was malformed.
// Anthropic's report also tells the cache writes to its one-hour cache and
// the searches of its web search tool, which are priced apart.
// Order per quantity: provider metadata, then ai.usage.* (the V3 detail
// names first), then gen_ai.usage.*. Anthropic's own input_tokens leave the
// cache out; so do the SDK's counts for Anthropic before LanguageModelV3.
func (a *spanAttrs) readVercelUsage(provider string, t *reportedTokens) (malformed bool) {
	if provider == "anthropic" && !a.has(slotAIInputDetails) && !a.has(slotAIInputNoCache) {
		t.inputExcludesCache = true
	}
	raw := a.str(slotAIProviderMetadata)
	if raw == "" {
		return false
	}
	var m vercelMetadata
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return true
	}
	bad := false
	set := func(dst *tokenCount, n *json.Number) {
		if n == nil {
			return
		}
		v, err := n.Int64()
		if err != nil || v < 0 || v > maxTokenCount {
			bad = true
			return
		}
		*dst = tokenCount{n: v, present: true}
	}
	if a := m.Anthropic; a != nil {
		if u := a.Usage; u != nil {
			// The whole usage report of the provider: it replaces the SDK's.
			set(&t.input, u.InputTokens)
			set(&t.output, u.OutputTokens)
			set(&t.cacheRead, u.CacheReadInputTokens)
			set(&t.cacheWrite, u.CacheCreationInputTokens)
			if cc := u.CacheCreation; cc != nil {
				set(&t.cacheWrite1h, cc.Ephemeral1h)
			}
			if st := u.ServerToolUse; st != nil {
				set(&t.webSearches, st.WebSearchRequests)
			}
			t.inputExcludesCache = true
		} else {
			set(&t.cacheWrite, a.CacheCreationInputTokens)
		}
	}
	if o := m.OpenAI; o != nil {
		set(&t.cacheRead, o.CachedPromptTokens)
		set(&t.reasoning, o.ReasoningTokens)
	}
	if b := m.Bedrock; b != nil && b.Usage != nil {
		set(&t.cacheRead, b.Usage.CacheReadInputTokens)
		set(&t.cacheWrite, b.Usage.CacheWriteInputTokens)
	}
	return bad
}
