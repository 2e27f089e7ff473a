package pricing

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePerMillion(t *testing.T) {
	f := func(text string, want int64) {
		t.Helper()
		got, err := parsePerMillion("input", text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	// 1 USD per million tokens = 1e12 pUSD / 1e6 tokens = 1,000,000 pUSD per token.
	f("3", 3_000_000)
	f("15", 15_000_000)
	f("0.15", 150_000)     // 0.15 × 1e6
	f("0.075", 75_000)     // 0.075 × 1e6
	f("0.60", 600_000)     // trailing zero changes nothing
	f("3.75", 3_750_000)   // 3.75 × 1e6
	f("10.00", 10_000_000) // 10 × 1e6
	f("0.000001", 1)       // the smallest representable price
	f("0", 0)
	f("1.", 1_000_000)
	f(".5", 500_000)
}

func TestParsePerMillionRejects(t *testing.T) {
	f := func(text, wantMsg string) {
		t.Helper()
		_, err := parsePerMillion("cache_read", text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), "'cache_read'")
		assert.Contains(t, err.Error(), wantMsg)
	}
	f("", "is missing")
	f("0.0000001", "more than 6 decimals")
	f("1e-3", "not a plain decimal number")
	f("-1", "not a plain decimal number")
	f("1.5.0", "not a plain decimal number")
	f("0,15", "not a plain decimal number")
	f(".", "has no digits")
	f("99999999999999999999", "too large")
}

func TestCost(t *testing.T) {
	gpt4oMini := Price{Rates: Rates{Input: 150_000, CacheRead: 75_000, CacheWrite: 150_000, Output: 600_000}}
	embedding := Price{Rates: Rates{Input: 20_000, CacheRead: 20_000, CacheWrite: 20_000}}
	sonnet := Price{Rates: Rates{Input: 3_000_000, CacheRead: 300_000, CacheWrite: 3_750_000, Output: 15_000_000}}

	f := func(p Price, tok Tokens, want int64) {
		t.Helper()
		got, err := p.Cost(tok)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	// 120×150,000 + 30×600,000 = 18,000,000 + 18,000,000 = 36,000,000 ($0.000036).
	f(gpt4oMini, Tokens{Input: 120, Output: 30}, 36_000_000)
	// 16×20,000 = 320,000 ($0.00000032).
	f(embedding, Tokens{Input: 16}, 320_000)
	// 100 uncached×150,000 + 20 read×75,000 + 30×600,000
	// = 15,000,000 + 1,500,000 + 18,000,000 = 34,500,000 ($0.0000345).
	f(gpt4oMini, Tokens{Input: 120, CacheRead: 20, Output: 30}, 34_500_000)
	// 100 uncached×3,000,000 + 400 read×300,000 + 300 written×3,750,000 + 25×15,000,000
	// = 300,000,000 + 120,000,000 + 1,125,000,000 + 375,000,000 = 1,920,000,000 ($0.00192).
	f(sonnet, Tokens{Input: 800, CacheRead: 400, CacheWrite: 300, Output: 25}, 1_920_000_000)
	// 86 uncached×150,000 + 17,817 read×75,000 + 1,970 output×600,000 (956 of it
	// reasoning, priced as output) = 12,900,000 + 1,336,275,000 + 1,182,000,000
	// = 2,531,175,000.
	f(gpt4oMini, Tokens{Input: 17903, CacheRead: 17817, Output: 1970, Reasoning: 956}, 2_531_175_000)
	f(gpt4oMini, Tokens{}, 0)
}

func TestCostRejects(t *testing.T) {
	p := Price{Rates: Rates{Input: 1, CacheRead: 1, CacheWrite: 1, Output: 1}}
	_, err := p.Cost(Tokens{Input: 10, CacheRead: 8, CacheWrite: 3})
	require.ErrorIs(t, err, ErrInconsistentTokens)
	_, err = p.Cost(Tokens{Input: -1})
	require.ErrorIs(t, err, ErrInconsistentTokens)

	// 3 × (MaxInt64/2) does not fit.
	huge := Price{Rates: Rates{Input: math.MaxInt64 / 2}}
	_, err = huge.Cost(Tokens{Input: 3})
	require.ErrorIs(t, err, ErrCostOverflow)
	// Each part fits, their sum does not: (MaxInt64/2+1) × 2 > MaxInt64.
	half := Price{Rates: Rates{Input: math.MaxInt64/2 + 1, Output: math.MaxInt64/2 + 1}}
	_, err = half.Cost(Tokens{Input: 1, Output: 1})
	require.ErrorIs(t, err, ErrCostOverflow)
}

const datedFile = `
version: 1
prices:
  - provider: openai
    model: m
    aliases: [m-2025-06-01]
    effective: 2025-06-01
    input: 2
    output: 4
    source: {url: https://example.com/new, read: 2025-06-02}
  - provider: openai
    model: m
    effective: 2025-01-01
    input: 1
    cache_read: 0.5
    output: 2
    source: {url: https://example.com/old, read: 2025-01-02}
`

func TestLookupDated(t *testing.T) {
	table, err := Load([]byte(datedFile))
	require.NoError(t, err)
	assert.Equal(t, 2, table.Len())

	f := func(model string, at time.Time, wantInput int64, wantFound bool) {
		t.Helper()
		p, ok := table.Lookup("openai", model, at)
		require.Equal(t, wantFound, ok, "%s at %s", model, at)
		if ok {
			assert.Equal(t, "m", p.Model)
			assert.Equal(t, wantInput, p.Input, "%s at %s", model, at)
		}
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return d
	}
	f("m", day("2024-12-31T23:59:59.999999999Z"), 0, false) // before the first price
	f("m", day("2025-01-01T00:00:00Z"), 1_000_000, true)
	f("m", day("2025-05-31T23:59:59Z"), 1_000_000, true)
	f("m", day("2025-06-01T00:00:00Z"), 2_000_000, true)
	f("m", day("2031-01-01T00:00:00Z"), 2_000_000, true)
	// An alias resolves to its canonical model at every date.
	f("m-2025-06-01", day("2025-03-01T00:00:00Z"), 1_000_000, true)
	f("m-filter", day("2031-01-01T00:00:00Z"), 0, false)

	// A missing cache price is the input price; a given one is used as is.
	p, _ := table.Lookup("openai", "m", day("2025-06-01T00:00:00Z"))
	assert.Equal(t, int64(2_000_000), p.CacheRead)
	assert.Equal(t, int64(2_000_000), p.CacheWrite)
	p, _ = table.Lookup("openai", "m", day("2025-02-01T00:00:00Z"))
	assert.Equal(t, int64(500_000), p.CacheRead)
	assert.Equal(t, int64(1_000_000), p.CacheWrite)
	assert.Equal(t, "https://example.com/old (read 2025-01-02)", p.Source)
}

func TestLookupDoesNotAllocate(t *testing.T) {
	table, err := Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	names := [][2]string{
		{"openai", "gpt-4o-mini"},
		{"openai", "gpt-4o-mini-filter"},
		{"openai", "openai/gpt-4o"},
		{"anthropic", "claude-sonnet-4-5-20250929"},
		{"aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"gcp.vertex_ai", "claude-sonnet-4-5@20250929"},
		{"azure.ai.openai", "gpt-4o"},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			table.Lookup(n[0], n[1], at)
		}
	})
	assert.Zero(t, allocs)
}

func TestBuiltin(t *testing.T) {
	table, err := Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 12, 3, 17, 16, 31, 0, time.UTC)

	// Per-token prices are the dataset's USD per million tokens × 1,000,000;
	// a cache price the dataset leaves out is the input price.
	tests := []struct {
		provider, model string
		want            Rates
	}{
		// gpt-4o-mini: $0.15 / $0.60, cache read $0.075.
		{"openai", "gpt-4o-mini", Rates{Input: 150_000, CacheRead: 75_000, CacheWrite: 150_000,
			CacheWrite1h: 150_000, Output: 600_000}},
		{"openai", "gpt-4o-mini-2024-07-18", Rates{Input: 150_000, CacheRead: 75_000, CacheWrite: 150_000,
			CacheWrite1h: 150_000, Output: 600_000}},
		// gpt-4o: $2.50 / $10, cache read $1.25.
		{"openai", "gpt-4o", Rates{Input: 2_500_000, CacheRead: 1_250_000, CacheWrite: 2_500_000,
			CacheWrite1h: 2_500_000, Output: 10_000_000}},
		// text-embedding-3-small: $0.02 input, no output price.
		{"openai", "text-embedding-3-small", Rates{Input: 20_000, CacheRead: 20_000, CacheWrite: 20_000,
			CacheWrite1h: 20_000}},
		// claude-sonnet-4-5: $3 / $15, cache read $0.30, 5-minute write $3.75, 1-hour write $6.
		{"anthropic", "claude-sonnet-4-5", Rates{Input: 3_000_000, CacheRead: 300_000, CacheWrite: 3_750_000,
			CacheWrite1h: 6_000_000, Output: 15_000_000}},
		// claude-haiku-4-5: $1 / $5, cache read $0.10, writes $1.25 and $2.
		{"anthropic", "claude-haiku-4-5", Rates{Input: 1_000_000, CacheRead: 100_000, CacheWrite: 1_250_000,
			CacheWrite1h: 2_000_000, Output: 5_000_000}},
		// gemini-2.5-pro up to 200K input tokens: $1.25 / $10, cache read $0.125.
		{"gcp.gemini", "gemini-2.5-pro", Rates{Input: 1_250_000, CacheRead: 125_000, CacheWrite: 1_250_000,
			CacheWrite1h: 1_250_000, Output: 10_000_000}},
	}
	for _, tt := range tests {
		p, ok := table.Lookup(tt.provider, tt.model, at)
		require.True(t, ok, "%s %s", tt.provider, tt.model)
		assert.Equal(t, tt.want, p.Rates, tt.model)
		assert.NotEmpty(t, p.Source)
	}

	for _, unknown := range [][2]string{
		{"openai", "gpt-4o-mini-filter"},     // never guessed into gpt-4o-mini
		{"openai", "gpt-4o-mini-2031-01-01"}, // the dataset lists gpt-4o-mini's snapshots one by one
		{"my-gateway", "gpt-4o-mini"},        // a provider the table does not know
	} {
		_, ok := table.Lookup(unknown[0], unknown[1], at)
		assert.False(t, ok, "%v", unknown)
	}
}

func TestLoadRejects(t *testing.T) {
	entry := func(fields string) string {
		return "version: 1\nprices:\n  - provider: openai\n    model: m\n" +
			"    source: {url: https://example.com, read: 2025-01-01}\n" + fields
	}
	tests := []struct {
		name, file, wantMsg string
	}{
		{"seven decimals", entry("    effective: 2025-01-01\n    input: 0.0000001\n    output: 1\n"),
			"entry 0 (openai m 2025-01-01): 'input' \"0.0000001\" has more than 6 decimals"},
		{"float notation", entry("    effective: 2025-01-01\n    input: 1e-6\n    output: 1\n"),
			"'input' \"1e-6\" is not a plain decimal number"},
		{"bad date", entry("    effective: 2025-13-01\n    input: 1\n    output: 1\n"),
			"'effective' \"2025-13-01\" is not a date; expecting YYYY-MM-DD"},
		{"missing output", entry("    effective: 2025-01-01\n    input: 1\n"),
			"'output' is missing"},
		{"unknown field", entry("    effective: 2025-01-01\n    input: 1\n    output: 1\n    tier: 2\n"),
			"field tier not found"},
		{"same date twice", entry("    effective: 2025-01-01\n    input: 1\n    output: 1\n") +
			"  - {provider: openai, model: m, effective: 2025-01-01, input: 2, output: 2, " +
			"source: {url: https://example.com, read: 2025-01-01}}\n",
			"openai m has two prices effective 2025-01-01"},
		{"provider not normalized",
			"version: 1\nprices:\n  - {provider: OpenAI, model: m, effective: 2025-01-01, input: 1, " +
				"output: 1, source: {url: https://example.com, read: 2025-01-01}}\n",
			"'provider' \"OpenAI\" is not a normalized name; expecting \"openai\""},
		{"no source",
			"version: 1\nprices:\n  - {provider: openai, model: m, effective: 2025-01-01, input: 1, output: 1}\n",
			"'source' needs 'url' and 'read'"},
		{"wrong version", "version: 2\nprices: []\n", "unsupported price file version 2; expecting version: 1"},
		{"empty", "version: 1\n", "price file has no entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}
