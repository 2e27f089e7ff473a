package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormalize(t *testing.T) {
	f := func(reported, want string) {
		t.Helper()
		assert.Equal(t, want, Normalize(reported), "Normalize(%q)", reported)
	}
	// Current well-known values stay as they are.
	f("openai", "openai")
	f("anthropic", "anthropic")
	f("aws.bedrock", "aws.bedrock")
	f("azure.ai.openai", "azure.ai.openai")
	f("gcp.vertex_ai", "gcp.vertex_ai")
	// Case and surrounding space do not matter.
	f("OpenAI", "openai")
	f("  Anthropic ", "anthropic")
	// Former spellings of the deprecated gen_ai.system.
	f("az.ai.openai", "azure.ai.openai")
	f("az.ai.inference", "azure.ai.inference")
	f("xai", "x_ai")
	f("gemini", "gcp.gemini")
	f("vertex_ai", "gcp.vertex_ai")
	f("MistralAI", "mistral_ai")
	// A known provider followed by an API name.
	f("openai.chat", "openai")
	f("openai.responses", "openai")
	f("openai.embedding", "openai")
	f("anthropic.messages", "anthropic")
	f("azure.ai.openai.chat", "azure.ai.openai")
	f("az.ai.openai.chat", "azure.ai.openai")
	// Dialect spellings: OpenInference llm.provider, LiteLLM's
	// custom_llm_provider, the Vercel AI SDK's provider ids.
	f("azure", "azure.ai.openai")
	f("bedrock", "aws.bedrock")
	f("amazon-bedrock", "aws.bedrock")
	f("vertex_ai", "gcp.vertex_ai")
	f("google.vertex.chat", "gcp.vertex_ai")
	f("google.generative-ai", "gcp.gemini")
	f("mistral", "mistral_ai")
	// An agent framework is not a provider.
	f("strands-agents", Unknown)
	f("LangChain", Unknown)
	// Unknown names stay as reported, lower-cased; nothing reported is unknown.
	f("my-gateway", "my-gateway")
	f("Acme.LLM", "acme.llm")
	f("openaiish", "openaiish")
	f("", Unknown)
	f("   ", Unknown)
}

func TestIsNormalized(t *testing.T) {
	assert.True(t, IsNormalized("openai"))
	assert.True(t, IsNormalized("gcp.gemini"))
	assert.False(t, IsNormalized("OpenAI"))
	assert.False(t, IsNormalized("openai.chat"))
	assert.False(t, IsNormalized(""))
}

func TestNormalizeDoesNotAllocate(t *testing.T) {
	names := []string{"openai", "openai.chat", "az.ai.openai", "my-gateway"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			Normalize(n)
		}
	})
	assert.Zero(t, allocs)
}

func TestFromServer(t *testing.T) {
	f := func(host, want string) {
		t.Helper()
		assert.Equal(t, want, FromServer(host), "FromServer(%q)", host)
	}
	f("api.openai.com", "openai")
	f("API.Anthropic.com", "anthropic")
	f("bedrock-runtime.us-east-1.amazonaws.com", "aws.bedrock")
	f("bedrock-agent-runtime.eu-west-1.amazonaws.com", "aws.bedrock")
	f("s3.amazonaws.com", Unknown)
	f("contoso.openai.azure.com", "azure.ai.openai")
	f("us-central1-aiplatform.googleapis.com", "gcp.vertex_ai")
	f("generativelanguage.googleapis.com", "gcp.gemini")
	f("localhost", Unknown)
	f("", Unknown)
	assert.Zero(t, testing.AllocsPerRun(10, func() { FromServer("bedrock-runtime.us-east-1.amazonaws.com") }))
}
