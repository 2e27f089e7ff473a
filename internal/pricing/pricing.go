// Package pricing holds the price table that turns a call's token counts into
// its exact cost. Prices are dated: a model may have several entries, and a
// call is priced with the entry in effect at the instant the call ended.
//
// Every amount is an integer number of picodollars (1e-12 USD, see
// [usage.PicoUSDPerUSD]) per token, so costs add up exactly; a price list
// quotes USD per million tokens, and one USD per million tokens is 1,000,000
// picodollars per token.
package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"sort"
	"time"
)

// Price is what one model of one provider costs per token from a date on.
type Price struct {
	// Provider is the provider's normalized name, e.g. "openai".
	Provider string
	// Model is the canonical model name; aliases of the model resolve to it.
	Model string
	// Effective is the first instant (midnight UTC) the price applies.
	Effective time.Time

	// Per-token prices in picodollars. CacheRead and CacheWrite equal Input
	// when the price list gives no separate cache price.
	Input      int64
	Output     int64
	CacheRead  int64
	CacheWrite int64

	// Source says where the price was read and when.
	Source string
}

// modelKey identifies one model of one provider in a [Table].
type modelKey struct {
	provider string
	model    string
}

// Table is a loaded price table. It is immutable once loaded and safe for
// concurrent use.
type Table struct {
	// prices holds, per provider and model name (canonical or alias), the
	// model's dated prices sorted by Effective, oldest first. An alias shares
	// the slice of its canonical model.
	prices map[modelKey][]Price
	// entries is the number of dated prices in the table.
	entries int
}

// Lookup returns the price of model from provider in effect at t: the entry
// with the latest Effective that is not after t. It reports false when the
// table has no such model or t is before its first price. The name must match
// a canonical model or an alias exactly: a similar name is never priced as
// another model. Lookup does not allocate.
func (t *Table) Lookup(provider, model string, at time.Time) (Price, bool) {
	if t == nil {
		return Price{}, false
	}
	dated := t.prices[modelKey{provider: provider, model: model}]
	for i := len(dated) - 1; i >= 0; i-- {
		if !dated[i].Effective.After(at) {
			return dated[i], true
		}
	}
	return Price{}, false
}

// Len returns the number of dated prices in the table.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.entries
}

// sortByEffective orders each model's prices oldest first.
func (t *Table) sortByEffective() {
	for _, dated := range t.prices {
		sort.Slice(dated, func(i, j int) bool {
			return dated[i].Effective.Before(dated[j].Effective)
		})
	}
}
