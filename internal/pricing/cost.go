package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"errors"
	"math"
)

var (
	// ErrInconsistentTokens is returned by [Price.Cost] when the cache
	// counts exceed the input count they are part of, or a count is negative.
	ErrInconsistentTokens = errors.New("pricing: inconsistent token counts")
	// ErrCostOverflow is returned by [Price.Cost] when the cost does not fit
	// in an int64 number of picodollars.
	ErrCostOverflow = errors.New("pricing: cost overflows int64 picodollars")
)

// Tokens are a call's normalized usage: Input includes CacheRead and
// CacheWrite, CacheWrite includes CacheWrite1h, Output includes Reasoning.
type Tokens struct {
	Input      int64
	Output     int64
	CacheRead  int64
	CacheWrite int64
	Reasoning  int64

	// CacheWrite1h is the part of CacheWrite written to the provider's
	// longer-lived cache (Anthropic's one-hour cache); 0 when unknown, which
	// prices every cache write at the shorter-lived rate.
	CacheWrite1h int64
	// WebSearches is the number of searches the provider's own web search
	// tool ran during the call.
	WebSearches int64
}

// Cost returns the exact cost of a call with the given usage, in
// picodollars:
//
//	PerCall
//	+ (Input − CacheRead − CacheWrite) × Input rate
//	+ CacheRead × CacheRead rate
//	+ (CacheWrite − CacheWrite1h) × CacheWrite rate
//	+ CacheWrite1h × CacheWrite1h rate
//	+ Output × Output rate (reasoning included)
//	+ WebSearches × WebSearch
//
// When the price has a long-context tier and Input (cache reads and writes
// included) exceeds the tier's threshold, every token of the request is
// priced at the tier's rates, not only the tokens above the threshold. A
// tool or MCP call reports no tokens and costs its PerCall price. Cost never
// wraps around: it returns [ErrCostOverflow] instead. It does not allocate.
func (p Price) Cost(t Tokens) (int64, error) {
	if t.Input < 0 || t.Output < 0 || t.CacheRead < 0 || t.CacheWrite < 0 ||
		t.CacheWrite1h < 0 || t.WebSearches < 0 ||
		t.CacheRead > t.Input || t.CacheWrite > t.Input-t.CacheRead ||
		t.CacheWrite1h > t.CacheWrite {
		return 0, ErrInconsistentTokens
	}
	rates := p.Rates
	if p.LongContext.Above > 0 && t.Input > p.LongContext.Above {
		rates = p.LongContext.Rates
	}

	total := p.PerCall
	for _, part := range [...][2]int64{
		{t.Input - t.CacheRead - t.CacheWrite, rates.Input},
		{t.CacheRead, rates.CacheRead},
		{t.CacheWrite - t.CacheWrite1h, rates.CacheWrite},
		{t.CacheWrite1h, rates.CacheWrite1h},
		{t.Output, rates.Output},
		{t.WebSearches, p.WebSearch},
	} {
		amount, ok := mul(part[0], part[1])
		if !ok {
			return 0, ErrCostOverflow
		}
		if total, ok = add(total, amount); !ok {
			return 0, ErrCostOverflow
		}
	}
	return total, nil
}

// mul returns a·b for non-negative a and b, and false if it overflows.
func mul(a, b int64) (int64, bool) {
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}

// add returns a+b for non-negative a and b, and false if it overflows.
func add(a, b int64) (int64, bool) {
	if a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}
