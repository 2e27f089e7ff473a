package pricing

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usd turns whole micro-dollars into picodollars, so that a cost worked out
// by hand in dollars reads as written: usd(54_399) is $0.054399.
func usd(microDollars int64) int64 { return microDollars * 1_000_000 }

func TestCostAnthropicCacheWriteIsChargedOnce(t *testing.T) {
	// $3, $15, $0.30 and $3.75 per million for input, output, cache read
	// and cache write.
	sonnet := Price{Rates: Rates{Input: 3_000_000, Output: 15_000_000, CacheRead: 300_000,
		CacheWrite: 3_750_000, CacheWrite1h: 3_750_000}}
	// Normalized input 12,307 holds the 12,304 written to the cache:
	//   3 uncached × $3/M      = $0.000009
	//   12,304 written × $3.75/M = $0.046140
	//   550 output × $15/M     = $0.008250
	//   total                   = $0.054399
	// Charging the cache write again as input would add 12,304 × $3/M =
	// $0.036912 and give $0.091311.
	got, err := sonnet.Cost(Tokens{Input: 12307, CacheWrite: 12304, Output: 550})
	require.NoError(t, err)
	assert.Equal(t, usd(54_399), got)
	assert.NotEqual(t, usd(91_311), got)
}

func TestCostUserOverride(t *testing.T) {
	// The user's file prices gpt-4o at $2.50, $15 and $0.25 per million for
	// input, output and cache read from 2026-01-01.
	table, err := Compile(append(BuiltinSources(), Source{Name: "negotiated.yaml", Data: []byte(`
version: 1
prices:
  - provider: openai
    model: gpt-4o
    effective: 2026-01-01
    input: 2.50
    output: 15
    cache_read: 0.25
    source: {url: https://example.com/our-contract, read: 2026-01-01}
`)}), Options{})
	require.NoError(t, err)
	p, ok := table.Lookup("openai", "gpt-4o-2024-08-06", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, "https://example.com/our-contract (read 2026-01-01)", p.Source)

	// Input 6,074 of which 3,456 read from the cache, output 285:
	//   2,618 uncached × $2.50/M = $0.006545
	//   3,456 read × $0.25/M     = $0.000864
	//   285 output × $15/M       = $0.004275
	//   total                     = $0.011684
	got, err := p.Cost(Tokens{Input: 6074, CacheRead: 3456, Output: 285})
	require.NoError(t, err)
	assert.Equal(t, usd(11_684), got)
}

func TestCostLongContextTier(t *testing.T) {
	// Gemini 2.5 Pro as the dataset prices it: $1.25 / $10 / $0.125 cache
	// read up to 200,000 input tokens; $2.50 / $15 / $0.25 for the whole
	// request above.
	table, err := Builtin()
	require.NoError(t, err)
	p, ok := table.Lookup("gcp.gemini", "gemini-2.5-pro", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Equal(t, int64(200_000), p.LongContext.Above)

	f := func(tok Tokens, want int64) {
		t.Helper()
		got, err := p.Cost(tok)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%+v", tok)
	}
	// 200,000 input is not above the threshold:
	// 200,000 × $1.25/M + 1,000 × $10/M = $0.25 + $0.01 = $0.26.
	f(Tokens{Input: 200_000, Output: 1_000}, usd(260_000))
	// 200,001 input crosses it, and every token is repriced:
	// 200,001 × $2.50/M + 1,000 × $15/M = $0.5000025 + $0.015 = $0.5150025.
	f(Tokens{Input: 200_001, Output: 1_000}, 515_002_500_000)
	// Cache reads count toward the threshold: 150,000 uncached + 60,000
	// read is 210,000 input, so 150,000 × $2.50/M + 60,000 × $0.25/M
	// + 100 × $15/M = $0.375 + $0.015 + $0.0015 = $0.3915.
	f(Tokens{Input: 210_000, CacheRead: 60_000, Output: 100}, usd(391_500))
}

func TestCostPerCallAndTools(t *testing.T) {
	f := func(p Price, tok Tokens, want int64) {
		t.Helper()
		got, err := p.Cost(tok)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%+v", tok)
	}
	// A web search MCP tool at $5 per thousand calls is $0.005 a call.
	search := Price{PerCall: 5_000_000_000}
	f(search, Tokens{}, usd(5_000))
	// Claude Haiku 4.5 with one web search ($10 per thousand):
	// 1,000 × $1/M + 200 × $5/M + $0.01 = $0.001 + $0.001 + $0.01 = $0.012.
	haiku := Price{Rates: Rates{Input: 1_000_000, Output: 5_000_000}, WebSearch: 10_000_000_000}
	f(haiku, Tokens{Input: 1_000, Output: 200, WebSearches: 1}, usd(12_000))
	// One-hour cache writes at $2/M next to five-minute ones at $1.25/M:
	// 100 uncached × $1/M + 1,000 × $1.25/M + 2,000 × $2/M
	// = $0.0001 + $0.00125 + $0.004 = $0.00535.
	haiku.CacheWrite, haiku.CacheWrite1h = 1_250_000, 2_000_000
	f(haiku, Tokens{Input: 3_100, CacheWrite: 3_000, CacheWrite1h: 2_000}, usd(5_350))

	_, err := haiku.Cost(Tokens{Input: 10, CacheWrite: 5, CacheWrite1h: 6})
	require.ErrorIs(t, err, ErrInconsistentTokens)
	_, err = haiku.Cost(Tokens{WebSearches: -1})
	require.ErrorIs(t, err, ErrInconsistentTokens)
}

func TestCostDoesNotAllocate(t *testing.T) {
	p := Price{Rates: Rates{Input: 3, Output: 15}, LongContext: LongContext{Above: 10, Rates: Rates{Input: 6}}}
	tok := Tokens{Input: 12, Output: 3}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = p.Cost(tok)
	})
	assert.Zero(t, allocs)
}

// TestCostAgainstBigIntegers prices random calls, many of them near the
// edge of int64 and half of them with a long-context tier, and compares
// each cost with the same sum worked out in math/big: the exact cost when
// it fits in int64, ErrCostOverflow when it does not.
func TestCostAgainstBigIntegers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	// value is a count or a rate: small, or at some magnitude up to MaxInt64.
	value := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.Int64N(1 << 20)
		case 2:
			return math.MaxInt64 - rng.Int64N(1<<10)
		default:
			return rng.Int64N(math.MaxInt64 >> rng.IntN(63))
		}
	}
	// upTo returns a count from 0 to n.
	upTo := func(n int64) int64 {
		if n == math.MaxInt64 {
			return rng.Int64()
		}
		return rng.Int64N(n + 1)
	}
	var fits, overflows int
	for range 200_000 {
		rates := func() Rates {
			return Rates{Input: value(), Output: value(), CacheRead: value(), CacheWrite: value(), CacheWrite1h: value()}
		}
		p := Price{Rates: rates(), PerCall: value(), WebSearch: value()}
		if rng.IntN(2) == 0 { // a long-context tier, above or below the call's input
			p.LongContext = LongContext{Above: value(), Rates: rates()}
		}
		tok := Tokens{Input: value(), Output: value(), WebSearches: value()}
		tok.CacheRead = upTo(tok.Input)
		tok.CacheWrite = upTo(tok.Input - tok.CacheRead)
		tok.CacheWrite1h = upTo(tok.CacheWrite)

		r := p.Rates
		if p.LongContext.Above > 0 && tok.Input > p.LongContext.Above {
			r = p.LongContext.Rates
		}
		want := big.NewInt(p.PerCall)
		for _, term := range [][2]int64{
			{tok.Input - tok.CacheRead - tok.CacheWrite, r.Input},
			{tok.CacheRead, r.CacheRead},
			{tok.CacheWrite - tok.CacheWrite1h, r.CacheWrite},
			{tok.CacheWrite1h, r.CacheWrite1h},
			{tok.Output, r.Output},
			{tok.WebSearches, p.WebSearch},
		} {
			want.Add(want, new(big.Int).Mul(big.NewInt(term[0]), big.NewInt(term[1])))
		}

		got, err := p.Cost(tok)
		if want.IsInt64() {
			fits++
			require.NoError(t, err, "%+v %+v", p, tok)
			require.Equal(t, want.Int64(), got, "%+v %+v", p, tok)
		} else {
			overflows++
			require.ErrorIs(t, err, ErrCostOverflow, "%+v %+v = %s", p, tok, want)
		}
	}
	// Both answers must have been checked often.
	require.Greater(t, fits, 10_000)
	require.Greater(t, overflows, 10_000)
}

// TestCostRejectsNegativeRates: a negative rate or per-call price cannot
// come from a price list; one built by hand makes every call that uses it
// overflow rather than pay the caller.
func TestCostRejectsNegativeRates(t *testing.T) {
	for _, p := range []Price{
		{Rates: Rates{Input: -1}},
		{Rates: Rates{Output: math.MinInt64}},
		{PerCall: -5},
	} {
		_, err := p.Cost(Tokens{Input: 10, Output: 10})
		require.ErrorIs(t, err, ErrCostOverflow, "%+v", p)
	}
	// A negative rate of a quantity the call did not use costs nothing.
	free := Price{Rates: Rates{Input: 2, CacheRead: -1}}
	got, err := free.Cost(Tokens{Input: 10})
	require.NoError(t, err)
	require.Equal(t, int64(20), got)
}
