package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"time"

	"github.com/usageledger/usageledger/internal/pricing"
)

// priceMemo remembers the prices looked up last: the calls of a request are
// mostly to a few models and tools and end close together, and matching a
// model name in the price table costs more than the rest of pricing a call.
//
// A price the memo holds is reused for a lookup of the same provider, model
// and service tier within the same second, which gives the price the table
// would: the table's prices change only at whole seconds, since each takes
// effect at midnight UTC of its date and a daily price window starts and
// ends at a whole second (HH:MM or HH:MM:SS).
type priceMemo struct {
	entries [priceMemoSize]priceMemoEntry
	// next is the entry the next lookup the memo cannot answer replaces.
	next int
}

// priceMemoSize is the number of prices a priceMemo holds: enough for a
// request whose calls alternate between a model, an embedding model and a
// tool or two, small enough to be searched in a few comparisons.
const priceMemoSize = 4

// priceMemoEntry is one lookup and its answer.
type priceMemoEntry struct {
	provider, model, tier string
	// second is the Unix second the lookup was for.
	second int64
	held   bool

	price pricing.Price
	found bool
}

// lookup returns table.LookupServiceTier(provider, model, tier, at), the
// price in the memo, valid until the next lookup.
func (m *priceMemo) lookup(
	table *pricing.Table,
	provider, model, tier string,
	at time.Time,
) (*pricing.Price, bool) {
	second := at.Unix()
	for i := range m.entries {
		e := &m.entries[i]
		if e.held && e.second == second && e.model == model && e.provider == provider && e.tier == tier {
			return &e.price, e.found
		}
	}
	e := &m.entries[m.next]
	m.next = (m.next + 1) % priceMemoSize
	e.price, e.found = table.LookupServiceTier(provider, model, tier, at)
	e.provider, e.model, e.tier, e.second, e.held = provider, model, tier, second, true
	return &e.price, e.found
}
