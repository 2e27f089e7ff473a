package genaiusageprocessor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

// negotiatedPrices is a user's price file: a contract rate for gpt-4o from
// 2026-01-01 and an MCP server priced per call.
const negotiatedPrices = `
version: 1
prices:
  - provider: openai
    model: gpt-4o
    effective: 2026-01-01
    input: 2.50
    output: 15
    cache_read: 0.25
    source: {url: https://example.com/contract, read: 2026-01-01}
  - provider: mcp
    model: search.example.com
    effective: 2026-01-01
    per_thousand_calls: 5
    source: {url: https://example.com/mcp, read: 2026-01-01}
`

func writePriceFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prices.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestPricingUserFileAndAlias(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Pricing.Files = []string{writePriceFile(t, negotiatedPrices)}
	cfg.Pricing.Aliases = map[string]string{"contoso-gpt4o-eastus": "gpt-4o"}
	require.NoError(t, confmap.Validate(cfg))
	prices, err := cfg.Pricing.load()
	require.NoError(t, err)

	p, err := newUsageProcessor(processortest.NewNopSettings(metadata.Type), cfg, prices)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.shutdown(t.Context())) })

	// An Azure deployment of gpt-4o at the user's rates: input 6,074 of
	// which 3,456 read from the cache, output 285:
	//   2,618 × $2.50/M + 3,456 × $0.25/M + 285 × $15/M
	//   = $0.006545 + $0.000864 + $0.004275 = $0.011684.
	got := process(t, p, spanSpec{attrs: chat(map[string]any{
		"gen_ai.provider.name":                 "azure.ai.openai",
		"gen_ai.request.model":                 "contoso-gpt4o-eastus",
		"gen_ai.usage.input_tokens":            6074,
		"gen_ai.usage.cache_read.input_tokens": 3456,
		"gen_ai.usage.output_tokens":           285,
	})})
	assert.Equal(t, int64(11_684_000_000), got[usage.AttrCostPicoUSD])
	assert.Equal(t, "gpt-4o", got[usage.AttrModel])
	assert.NotContains(t, got, usage.AttrUnpriced)

	// A tools/call request to the MCP server reports no tokens and costs its
	// per-call price: $5 / 1,000 calls = $0.005 = 5,000,000,000 pUSD.
	got = process(t, p, spanSpec{attrs: map[string]any{
		"mcp.method.name":  "tools/call",
		"server.address":   "search.example.com",
		"gen_ai.tool.name": "web_search",
	}})
	assert.Equal(t, int64(5_000_000_000), got[usage.AttrCostPicoUSD])
	assert.NotContains(t, got, usage.AttrUnpriced)
}

func TestPricingConfigRejects(t *testing.T) {
	f := func(pc PricingConfig, wantMsgs ...string) {
		t.Helper()
		cfg := createDefaultConfig().(*Config)
		cfg.Pricing = pc
		err := confmap.Validate(cfg)
		require.Error(t, err)
		for _, want := range wantMsgs {
			assert.Contains(t, err.Error(), want)
		}
	}
	missing := filepath.Join(t.TempDir(), "absent.yaml")
	f(PricingConfig{Files: []string{missing}}, "pricing: 'files[0]': cannot read price file", missing)
	f(PricingConfig{Files: []string{" "}},
		`pricing: 'files[0]' must be a path to a price file, e.g. /etc/otelcol/prices.yaml; got " "`)

	broken := writePriceFile(t, `
version: 1
prices:
  - {provider: openai, model: m, effective: 2026-02-30, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
`)
	f(PricingConfig{Files: []string{broken}},
		"pricing: "+broken+`: entry 0 (openai m 2026-02-30): 'effective' "2026-02-30" is not a date; expecting YYYY-MM-DD`)

	f(PricingConfig{Aliases: map[string]string{"prod": "gpt-40"}},
		`pricing: 'aliases' "prod" points to "gpt-40", which no price entry matches`)
	f(PricingConfig{SpanCost: "span"},
		`pricing::span_cost: span cost policy "span" is unknown; expecting "computed", "reported" or "compare"`)
}

func TestPricingDefaultsToBuiltinTable(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Empty(t, cfg.Pricing.Files)
	assert.Empty(t, cfg.Pricing.SpanCost) // computed
	prices, err := cfg.Pricing.load()
	require.NoError(t, err)
	builtin, err := pricing.Builtin()
	require.NoError(t, err)
	assert.Same(t, builtin, prices)
}
