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

// Tokens are a call's normalized token counts: Input includes CacheRead and
// CacheWrite, Output includes Reasoning.
type Tokens struct {
	Input      int64
	Output     int64
	CacheRead  int64
	CacheWrite int64
	Reasoning  int64
}

// Cost returns the exact cost of a call with the given tokens, in
// picodollars. Input tokens not read from or written to the cache are priced
// as input, cache reads and writes at their own prices, and output (reasoning
// included) as output. Cost never wraps around: it returns [ErrCostOverflow]
// instead.
func (p Price) Cost(t Tokens) (int64, error) {
	if t.Input < 0 || t.Output < 0 || t.CacheRead < 0 || t.CacheWrite < 0 ||
		t.CacheRead > t.Input || t.CacheWrite > t.Input-t.CacheRead {
		return 0, ErrInconsistentTokens
	}
	uncached := t.Input - t.CacheRead - t.CacheWrite

	var total int64
	for _, part := range [...][2]int64{
		{uncached, p.Input},
		{t.CacheRead, p.CacheRead},
		{t.CacheWrite, p.CacheWrite},
		{t.Output, p.Output},
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
