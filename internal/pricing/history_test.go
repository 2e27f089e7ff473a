package pricing

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPriceChangeOnThe15th(t *testing.T) {
	// The provider cuts its input price from $2 to $1.50 per million on
	// 2026-06-15; the output price stays $8.
	table, err := Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, effective: 2026-01-01, input: 2, output: 8,
     source: {url: https://example.com/jan, read: 2026-01-01}}
  - {provider: openai, model: m, effective: 2026-06-15, input: 1.50, output: 8,
     source: {url: https://example.com/jun, read: 2026-06-15}}
`))
	require.NoError(t, err)
	call := Tokens{Input: 1_000, Output: 100}

	f := func(at time.Time, want int64) {
		t.Helper()
		p, ok := table.Lookup("openai", "m", at)
		require.True(t, ok, at)
		got, err := p.Cost(call)
		require.NoError(t, err)
		assert.Equal(t, want, got, at)
	}
	// Before: 1,000 × $2/M + 100 × $8/M = $0.002 + $0.0008 = $0.0028.
	f(time.Date(2026, 6, 14, 23, 59, 59, 999_999_999, time.UTC), usd(2_800))
	// From midnight UTC on the 15th: 1,000 × $1.50/M + $0.0008 = $0.0023.
	f(time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC), usd(2_300))
	f(time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC), usd(2_300))
	// A call that ended at 01:00 on the 15th in UTC+2 ended at 23:00 UTC on
	// the 14th: the old price.
	f(time.Date(2026, 6, 15, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), usd(2_800))
}

func TestDatasetPriceHistory(t *testing.T) {
	// The dataset cut o3 from $10 / $40 to $2 / $8 per million on 2025-06-10.
	table, err := Builtin()
	require.NoError(t, err)
	call := Tokens{Input: 1_000_000, Output: 1_000_000}
	f := func(at time.Time, want int64) {
		t.Helper()
		p, ok := table.Lookup("openai", "o3-2025-04-16", at)
		require.True(t, ok, at)
		got, err := p.Cost(call)
		require.NoError(t, err)
		assert.Equal(t, want, got, at)
	}
	f(time.Date(2025, 6, 9, 23, 59, 59, 0, time.UTC), usd(50_000_000)) // $10 + $40
	f(time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), usd(10_000_000))   // $2 + $8
}

func TestUserFileAddsAndOverrides(t *testing.T) {
	user := Source{Name: "/etc/otelcol/prices.yaml", Data: []byte(`
version: 1
prices:
  # Our own deployment, priced per call only.
  - provider: mcp
    model: web-search
    effective: 2026-01-01
    per_thousand_calls: 5
    source: {url: https://example.com/mcp, read: 2026-01-01}
  # A discount on the shipped price from the date the contract started.
  - provider: anthropic
    model: claude-haiku-4-5
    aliases: [haiku-prod]
    effective: 2026-07-01
    input: 0.8
    output: 4
    source: {url: https://example.com/contract, read: 2026-07-01}
`)}
	table, err := Compile(append(BuiltinSources(), user), Options{})
	require.NoError(t, err)
	builtin, err := Builtin()
	require.NoError(t, err)
	assert.Equal(t, builtin.Len()+2, table.Len())

	p, ok := table.Lookup("mcp", "web-search", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	got, err := p.Cost(Tokens{})
	require.NoError(t, err)
	assert.Equal(t, usd(5_000), got) // $5 / 1,000 calls

	// Before the contract the shipped $1 applies, after it the user's $0.80,
	// whichever name the call reports.
	p, ok = table.Lookup("anthropic", "claude-haiku-4-5-20251001", time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, int64(1_000_000), p.Input)
	p, ok = table.Lookup("anthropic", "haiku-prod", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, int64(800_000), p.Input)
	assert.Equal(t, "claude-haiku-4-5", p.Model)
}

func TestUserFileReplacesSameDate(t *testing.T) {
	// An entry for the same provider, model and date as a shipped one
	// replaces it: gpt-4o at $2 instead of $2.50 for all time.
	table, err := Compile(append(BuiltinSources(), Source{Name: "flat.yaml", Data: []byte(`
version: 1
prices:
  - {provider: openai, model: gpt-4o, effective: 2000-01-01, input: 2, output: 8,
     source: {url: https://example.com/flat, read: 2026-01-01}}
`)}), Options{})
	require.NoError(t, err)
	builtin, err := Builtin()
	require.NoError(t, err)
	assert.Equal(t, builtin.Len(), table.Len())
	p, ok := table.Lookup("openai", "gpt-4o", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, int64(2_000_000), p.Input)
	assert.Equal(t, int64(2_000_000), p.CacheRead) // the user gave no cache price
}

func TestCompileRejectsNamingFileAndEntry(t *testing.T) {
	f := func(file, wantMsg string) {
		t.Helper()
		_, err := Compile(append(BuiltinSources(), Source{Name: "ours.yaml", Data: []byte(file)}), Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), wantMsg)
	}
	entry := func(fields string) string {
		return "version: 1\nprices:\n  - {provider: openai, model: m, effective: 2026-01-01, " +
			"source: {url: https://example.com, read: 2026-01-01}, " + fields + "}\n"
	}
	f(entry("input: 0.0000005, output: 1"),
		"ours.yaml: entry 0 (openai m 2026-01-01): 'input' \"0.0000005\" has more than 6 decimals")
	f(entry("per_thousand_calls: 0.0000000001"),
		"'per_thousand_calls' \"0.0000000001\" has more than 9 decimals")
	f(entry("input: 1, output: 1, long_context: {above: 0, input: 2}"),
		"'long_context.above' 0 must be a positive number of input tokens")
	f(entry("input: 1, output: 1, long_context: {above: 10, output: x}"),
		"'long_context.output' \"x\" is not a plain decimal number")
	f(entry("input: 1, output: 1, aliases: [gpt-4o]"),
		"ours.yaml: alias \"gpt-4o\" of openai m is itself a priced model")
	// Pricing a name the shipped table lists as an alias of gpt-4o.
	f(strings.Replace(entry("input: 1, output: 1"), "model: m,", "model: gpt-4o-2024-08-06,", 1),
		"alias \"gpt-4o-2024-08-06\" of openai gpt-4o is itself a priced model; "+
			"expecting its prices under openai gpt-4o, or no such alias")
	f("version: 1\nfallbacks: {Azure: [openai]}\n",
		"ours.yaml: 'fallbacks' provider \"Azure\" is not a normalized name; expecting \"azure.ai.openai\"")
	f("version: 1\nprices: []\n", "ours.yaml: price file has no entries")
}

func TestAliasOptions(t *testing.T) {
	table, err := Compile(BuiltinSources(), Options{Aliases: map[string]string{
		"prod-gpt4o":     "gpt-4o",
		"Team-Mini":      "gpt-4o-mini",
		"bedrock-sonnet": "anthropic.claude-sonnet-4-5-20250929-v1:0",
	}})
	require.NoError(t, err)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := func(provider, name, wantModel string) {
		t.Helper()
		got, ok := table.Resolve(provider, name)
		require.True(t, ok, "%s %s", provider, name)
		assert.Equal(t, wantModel, got)
		_, ok = table.Lookup(provider, name, at)
		assert.True(t, ok)
	}
	// An Azure deployment name resolves through Azure's own prices.
	f("azure.ai.openai", "prod-gpt4o", "gpt-4o")
	f("azure.ai.openai", "team-mini", "gpt-4o-mini")
	f("openai", "prod-gpt4o", "gpt-4o")
	f("aws.bedrock", "bedrock-sonnet", "regional.anthropic.claude-sonnet-4-5-20250929-v1:0")

	_, err = Compile(BuiltinSources(), Options{Aliases: map[string]string{"prod": "gpt-40"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'aliases' "prod" points to "gpt-40", which no price entry matches`)
	_, err = Compile(BuiltinSources(), Options{Aliases: map[string]string{"gpt-4o-mini": "gpt-4o"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'aliases' "gpt-4o-mini" is already a model`)
	_, err = Compile(BuiltinSources(), Options{Aliases: map[string]string{"prod": " "}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'aliases' "prod"`)
}
