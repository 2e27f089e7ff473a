package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"errors"
	"math"
	"math/bits"
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
func (p *Price) Cost(t Tokens) (int64, error) {
	if t.Input < 0 || t.Output < 0 || t.CacheRead < 0 || t.CacheWrite < 0 ||
		t.CacheWrite1h < 0 || t.WebSearches < 0 ||
		t.CacheRead > t.Input || t.CacheWrite > t.Input-t.CacheRead ||
		t.CacheWrite1h > t.CacheWrite {
		return 0, ErrInconsistentTokens
	}
	rates := &p.Rates
	if p.LongContext.Above > 0 && t.Input > p.LongContext.Above {
		rates = &p.LongContext.Rates
	}

	// Counts and rates are at most MaxInt64, so each product is exact in
	// 128 bits; the sum stays in 64 unsigned bits until it overflows
	// int64, and a negative rate or PerCall, read as unsigned, always does.
	total, ok := uint64(p.PerCall), true
	total, ok = addProduct(total, ok, t.Input-t.CacheRead-t.CacheWrite, rates.Input)
	total, ok = addProduct(total, ok, t.CacheRead, rates.CacheRead)
	total, ok = addProduct(total, ok, t.CacheWrite-t.CacheWrite1h, rates.CacheWrite)
	total, ok = addProduct(total, ok, t.CacheWrite1h, rates.CacheWrite1h)
	total, ok = addProduct(total, ok, t.Output, rates.Output)
	total, ok = addProduct(total, ok, t.WebSearches, p.WebSearch)
	if !ok || total > math.MaxInt64 {
		return 0, ErrCostOverflow
	}
	return int64(total), nil
}

// addProduct returns total + count·rate, and false if ok was false or the
// sum needs more than 64 bits. count is not negative.
func addProduct(total uint64, ok bool, count, rate int64) (uint64, bool) {
	hi, lo := bits.Mul64(uint64(count), uint64(rate))
	sum, carry := bits.Add64(total, lo, 0)
	return sum, ok && hi|carry == 0
}
