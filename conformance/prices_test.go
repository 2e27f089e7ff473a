package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// listPrice is a model's list price in picodollars per token (one dollar
// per million tokens is 1,000,000 picodollars per token).
type listPrice struct {
	input, cacheRead, cacheWrite, output int64
}

// listPrices are the public list prices the expected costs use, kept here
// apart from the product's price table so that a mistake in one is not
// copied into the other.
var listPrices = map[string]listPrice{
	"gpt-4o-mini":            {input: 150_000, cacheRead: 75_000, cacheWrite: 150_000, output: 600_000},
	"text-embedding-3-small": {input: 20_000},
	"claude-sonnet-4-5": {input: 3_000_000, cacheRead: 300_000, cacheWrite: 3_750_000,
		output: 15_000_000},
}

// TestExpectedCostsFollowListPrices recomputes every expected cost from
// its expected token counts, so a slip in the hand arithmetic of
// cases_test.go fails here rather than being blamed on the collector.
func TestExpectedCostsFollowListPrices(t *testing.T) {
	for _, lib := range libraries {
		for _, c := range lib.calls {
			w := c.want
			var cost int64
			price, known := listPrices[c.model]
			switch {
			case w.Requests == 0, w.Blocked == 1, w.RateLimited == 1:
				// Nothing counted, or the model never ran: free.
			case !known:
				assert.EqualValues(t, 1, w.Unpriced, "%s %s: a model without a list price is unpriced",
					lib.name, c.name)
			default:
				uncached := w.Input - w.CacheRead - w.CacheWrite
				cost = uncached*price.input + w.CacheRead*price.cacheRead +
					w.CacheWrite*price.cacheWrite + w.Output*price.output
			}
			assert.Equal(t, cost, w.CostPicoUSD, "%s %s", lib.name, c.name)
			if known {
				assert.Zero(t, w.Unpriced, "%s %s: %s has a list price", lib.name, c.name, c.model)
			}
		}
	}
}
