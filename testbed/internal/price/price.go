// Package price holds the list prices the testbed expects the collector to
// charge for the models its load uses, in exact integer picodollars per
// token, so expected costs are sums of integers and compare exactly.
package price // import "github.com/usageledger/usageledger/testbed/internal/price"

// PicoUSDPerUSDPerMillion is the price of one token, in picodollars, of a
// model that costs one US dollar per million tokens.
const PicoUSDPerUSDPerMillion = 1_000_000

// Model is one priced model and the provider that serves it.
type Model struct {
	// Name is the canonical model name, as the request reports it and as
	// the ledger labels it.
	Name string
	// Provider is the well-known gen_ai.provider.name of the model's
	// provider; FormerProvider is the spelling older instrumentations put in
	// the deprecated gen_ai.system.
	Provider       string
	FormerProvider string
	// OpenInferenceProvider is the llm.provider OpenInference writes, and
	// VercelProvider the ai.model.provider of the Vercel AI SDK.
	OpenInferenceProvider string
	VercelProvider        string
	// Input and Output are the list prices per token in picodollars.
	Input  int64
	Output int64
}

// Cost is the price of a call with the given token counts and no cache
// tokens.
func (m Model) Cost(input, output int64) int64 {
	return input*m.Input + output*m.Output
}

// Models are the priced models the load generator uses, at list prices per
// million tokens (below every long-context tier: the load keeps prompts
// short).
var Models = []Model{
	{Name: "gpt-4o-mini", Provider: "openai", FormerProvider: "openai",
		OpenInferenceProvider: "openai", VercelProvider: "openai.chat",
		Input: 150_000, Output: 600_000}, // $0.15 / $0.60
	{Name: "gpt-4o", Provider: "openai", FormerProvider: "openai",
		OpenInferenceProvider: "openai", VercelProvider: "openai.responses",
		Input: 2_500_000, Output: 10_000_000}, // $2.50 / $10
	{Name: "claude-sonnet-4-5", Provider: "anthropic", FormerProvider: "anthropic",
		OpenInferenceProvider: "anthropic", VercelProvider: "anthropic.messages",
		Input: 3_000_000, Output: 15_000_000}, // $3 / $15
	{Name: "claude-haiku-4-5", Provider: "anthropic", FormerProvider: "anthropic",
		OpenInferenceProvider: "anthropic", VercelProvider: "anthropic.messages",
		Input: 1_000_000, Output: 5_000_000}, // $1 / $5
	{Name: "gemini-2.5-pro", Provider: "gcp.gemini", FormerProvider: "gemini",
		OpenInferenceProvider: "google", VercelProvider: "google.generative-ai",
		Input: 1_250_000, Output: 10_000_000}, // $1.25 / $10
}
