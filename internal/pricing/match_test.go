package pricing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveOrder(t *testing.T) {
	table, err := Compile(BuiltinSources(), Options{Aliases: map[string]string{
		"contoso-gpt4o-eastus": "gpt-4o",
	}})
	require.NoError(t, err)

	f := func(provider, name, want string) {
		t.Helper()
		got, ok := table.Resolve(provider, name)
		if want == "" {
			assert.False(t, ok, "%s %q matched %q", provider, name, got)
			return
		}
		require.True(t, ok, "%s %q", provider, name)
		assert.Equal(t, want, got, "%s %q", provider, name)
	}
	// 1. Exact canonical names and the dataset's aliases, in any case.
	f("openai", "gpt-4o", "gpt-4o")
	f("openai", "gpt-4o-2024-08-06", "gpt-4o")
	f("openai", "GPT-4o", "gpt-4o")
	f("openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13") // a snapshot priced apart
	// 2. The user's alias map: an Azure deployment name.
	f("azure.ai.openai", "contoso-gpt4o-eastus", "gpt-4o")
	// 3. Routing prefixes.
	f("openai", "openai/gpt-4o", "gpt-4o")
	f("gcp.gemini", "models/gemini-2.5-flash", "gemini-2.5-flash")
	// 4. Bedrock: scope prefix and version suffix; global and regional
	// endpoints are separate prices.
	f("aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"global.anthropic.claude-sonnet-4-5-20250929-v1:0")
	f("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"regional.anthropic.claude-sonnet-4-5-20250929-v1:0")
	f("aws.bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"regional.anthropic.claude-sonnet-4-5-20250929-v1:0")
	f("aws.bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0",
		"regional.anthropic.claude-sonnet-4-5-20250929-v1:0")
	f("aws.bedrock", "us.meta.llama3-1-70b-instruct-v1:0", "meta.llama3-1-70b-instruct-v1:0")
	f("aws.bedrock", "amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v2:0")
	// 5. Vertex AI versions; Vertex falls back to the Gemini and Anthropic
	// prices.
	f("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5")
	f("gcp.vertex_ai", "gemini-2.5-pro", "gemini-2.5-pro")
	// 6. Dated snapshots fold in only where the dataset's rules say so:
	// Anthropic's rules take any suffix, OpenAI's list each snapshot.
	f("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5")
	f("anthropic", "claude-haiku-4-5-20251001", "claude-haiku-4-5")
	f("openai", "gpt-4o-2031-01-01", "")
	// Fallbacks: Azure OpenAI prices what it does not list at OpenAI's rates.
	f("azure.ai.openai", "gpt-4o-mini", "gpt-4o-mini")

	// Never guessed.
	f("openai", "gpt-4o-mini-filter", "")
	f("openai", "gpt-4o-mini-", "")
	f("openai", "gpt-4o-mini/", "")
	f("openai", "claude-sonnet-4-5", "") // another provider's model
	f("anthropic", "claude-sonnet-4-5-preview", "")
	f("aws.bedrock", "us.anthropic.claude-sonnet-9-v1:0", "")
	f("my-gateway", "gpt-4o", "")
	f("openai", "", "")
	f("openai", "   ", "")
}

func TestBedrockEndpointsPricedApart(t *testing.T) {
	// The dataset prices Bedrock's regional endpoints 10% above the global
	// one: Claude Sonnet 4.5 input is $3.30 regional and $3 global.
	table, err := Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	regional, ok := table.Lookup("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", at)
	require.True(t, ok)
	global, ok := table.Lookup("aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", at)
	require.True(t, ok)
	assert.Equal(t, int64(3_300_000), regional.Input)
	assert.Equal(t, int64(3_000_000), global.Input)
}

func TestUndated(t *testing.T) {
	f := func(name, want string, wantOK bool) {
		t.Helper()
		got, ok := undated(name)
		assert.Equal(t, wantOK, ok, name)
		assert.Equal(t, want, got, name)
	}
	f("gpt-4o-2024-08-06", "gpt-4o", true)
	f("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", true)
	f("gpt-4o", "", false)
	f("grok-4-0709", "", false)      // four digits are a version, not a date
	f("x-2024-08-6", "", false)      // not a full date
	f("model-2024a08-06", "", false) // not digits
	f("-20250929", "", false)        // no model before the date
	f("2024-08-06", "", false)
}

func TestTitanEmbeddingsV2KeepsItsOwnPrice(t *testing.T) {
	// The dataset's rule for Titan Text Embeddings V1 ("contains
	// amazon.titan-embed-text") also matches V2, which costs $0.02 per
	// million tokens, not V1's $0.10; the hand-kept entry wins.
	table, err := Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	v2, ok := table.Lookup("aws.bedrock", "amazon.titan-embed-text-v2:0", at)
	require.True(t, ok)
	assert.Equal(t, int64(20_000), v2.Input)
	v1, ok := table.Lookup("aws.bedrock", "amazon.titan-embed-text-v1", at)
	require.True(t, ok)
	assert.Equal(t, int64(100_000), v1.Input)
}

func TestBedrockUnversioned(t *testing.T) {
	f := func(name, want string) {
		t.Helper()
		assert.Equal(t, want, bedrockUnversioned(name), name)
	}
	f("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929")
	f("anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022")
	f("amazon.titan-embed-text-v1", "amazon.titan-embed-text")
	f("nvidia.nemotron-nano-3-30b:0", "nvidia.nemotron-nano-3-30b")
	f("openai.gpt-oss-120b-1:0", "openai.gpt-oss-120b-1")
	f("openai.gpt-5.4", "openai.gpt-5.4")
	f("mistral.mistral-7b-instruct-v0:2", "mistral.mistral-7b-instruct")
}
