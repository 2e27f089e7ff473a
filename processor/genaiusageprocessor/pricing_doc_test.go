package genaiusageprocessor

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/usageledger/usageledger/internal/pricing"
)

// pricingDocBlocks returns the YAML examples of PRICING.md, in order.
func pricingDocBlocks(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("PRICING.md")
	require.NoError(t, err)
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		blocks = append(blocks, m[1])
	}
	require.Len(t, blocks, 4, "config, format, fallbacks, worked example")
	return blocks
}

func TestPricingDocPriceFilesLoad(t *testing.T) {
	blocks := pricingDocBlocks(t)
	for _, i := range []int{1, 3} {
		_, err := pricing.Compile(append(pricing.BuiltinSources(),
			pricing.Source{Name: "PRICING.md example", Data: []byte(blocks[i])}), pricing.Options{})
		require.NoError(t, err, blocks[i])
	}
	_, err := pricing.Compile(append(pricing.BuiltinSources(),
		pricing.Source{Name: "fallbacks", Data: []byte("version: 1\n" + blocks[2])}), pricing.Options{})
	require.NoError(t, err)
}

func TestPricingDocWorkedExample(t *testing.T) {
	blocks := pricingDocBlocks(t)
	table, err := pricing.Compile(append(pricing.BuiltinSources(),
		pricing.Source{Name: "/etc/otelcol/prices.yaml", Data: []byte(blocks[3])}), pricing.Options{})
	require.NoError(t, err)
	march := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)

	f := func(provider, model string, tok pricing.Tokens, want int64) {
		t.Helper()
		p, ok := table.Lookup(provider, model, march)
		require.True(t, ok, "%s %s", provider, model)
		got, err := p.Cost(tok)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s %s", provider, model)
	}
	// The table in PRICING.md: $0.011684.
	f("openai", "gpt-4o", pricing.Tokens{Input: 6074, CacheRead: 3456, Output: 285}, 11_684_000_000)
	f("mcp", "search.example.com", pricing.Tokens{}, 5_000_000_000) // $0.005
	f("tool", "lookup_invoice", pricing.Tokens{}, 400_000_000)      // $0.0004
}

func TestPricingDocConfig(t *testing.T) {
	blocks := pricingDocBlocks(t)
	path := writePriceFile(t, blocks[3])
	text := strings.ReplaceAll(blocks[0], "/etc/otelcol/prices.yaml", path)
	conf, err := confmap.NewRetrievedFromYAML([]byte(text))
	require.NoError(t, err)
	raw, err := conf.AsConf()
	require.NoError(t, err)
	sub, err := raw.Sub("processors::genaiusage")
	require.NoError(t, err)

	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []string{path}, cfg.Pricing.Files)
	assert.Equal(t, map[string]string{"contoso-gpt4o-eastus": "gpt-4o"}, cfg.Pricing.Aliases)
	assert.Equal(t, pricing.SpanCostComputed, cfg.Pricing.SpanCost)
}
