// Package pricing holds the price table that turns a call's usage into its
// exact cost. Prices are dated: a model may have several entries, and a call
// is priced with the entry in effect at the instant the call ended, the same
// instant that picks its month. A cost is computed once, when the call is
// counted, so changing the table never changes a month already counted.
//
// Every amount is an integer number of picodollars (1e-12 USD, see
// [usage.PicoUSDPerUSD]), so costs add up exactly: a price list quotes USD per
// million tokens, and one USD per million tokens is 1,000,000 picodollars per
// token. A price the unit cannot represent is rejected when the table loads.
package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"sort"
	"time"
)

// Rates are per-token prices in picodollars.
type Rates struct {
	Input  int64
	Output int64
	// CacheRead and CacheWrite equal Input when the price list gives no
	// separate cache price. CacheWrite1h, the rate of the longer-lived (one-hour)
	// cache write where a provider has one, equals CacheWrite when not given.
	CacheRead    int64
	CacheWrite   int64
	CacheWrite1h int64
}

// LongContext is a provider's higher rate for long requests: once a request's
// input tokens (cache reads and writes included) exceed Above, all its tokens
// are priced at Rates. Above is 0 when the model has no such tier.
type LongContext struct {
	Above int64
	Rates Rates
}

// Price is what one model of one provider costs from a date on.
type Price struct {
	// Provider is the provider's normalized name, e.g. "openai".
	Provider string
	// Model is the canonical model name; every name that matches the model
	// resolves to it.
	Model string
	// Effective is the first instant (midnight UTC) the price applies.
	Effective time.Time
	// ServiceTier is the service tier the price is for, empty for the
	// standard one.
	ServiceTier string
	// Hours is the daily UTC window the price applies in; zero for all day.
	Hours Hours

	Rates
	LongContext LongContext
	// PerCall is charged once per call on top of its tokens, in picodollars:
	// the whole price of a tool or MCP call that reports no tokens.
	PerCall int64
	// WebSearch is the price of one search by the provider's web search tool.
	WebSearch int64

	// Source says where the price was read and when.
	Source string
}

// modelKey identifies one model name of one provider in a [Table].
type modelKey struct {
	provider string
	model    string
}

// model is one priced model and its dated prices.
type model struct {
	// prices are the standard prices, sorted by Effective, oldest first.
	prices []Price
	// tiers hold the prices of other service tiers, each sorted likewise.
	tiers []tierPrices
	// datedVersions is true when names carrying a snapshot date after the
	// model's name ("-2025-08-06", "-20250929") are the same model.
	datedVersions bool
}

// tierPrices are the dated prices of one service tier.
type tierPrices struct {
	tier   string
	prices []Price
}

// at returns the price in effect at t: the entry with the latest Effective
// that is not after t and whose Hours hold t's time of day; of two entries
// effective the same day, the one limited to certain hours wins in them.
// prices are sorted by [sortPrices].
func at(prices []Price, t time.Time) (Price, bool) {
	for i := len(prices) - 1; i >= 0; i-- {
		if !prices[i].Effective.After(t) && prices[i].Hours.contains(t) {
			return prices[i], true
		}
	}
	return Price{}, false
}

// Table is a loaded price table. It is immutable once loaded and safe for
// concurrent use.
type Table struct {
	// models holds every canonical model and alias, in lower case.
	models map[modelKey]*model
	// bedrock holds the Bedrock models priced per endpoint scope, keyed by
	// the scope ("global" or "regional") and the model id without its scope
	// prefix and version suffix.
	bedrock map[bedrockKey]*model
	// fallbacks lists, per provider, the providers whose prices apply to a
	// model the provider itself does not price (Azure serves OpenAI models
	// at OpenAI's prices).
	fallbacks map[string][]string
	// aliases are the user's names for models, such as Azure deployment
	// names, lower case, mapped to the model name they stand for.
	aliases map[string]string

	// entries is the number of dated prices in the table.
	entries int
	// dataset names the public price dataset the shipped prices come from.
	dataset string
}

// Lookup returns the price of model from provider in effect at t. The model
// name is matched in the order documented on [Table.Resolve]; a name that
// matches nothing is reported false, never priced as a similar model. It also
// reports false when t is before the model's first price. Lookup does not
// allocate when model is in lower case.
//
// Prices change only at whole seconds (a price takes effect at midnight UTC
// of its date, and a daily window starts and ends at a whole second), so a
// lookup gives the same answer for every instant of one second, which
// callers may rely on to reuse an answer.
func (t *Table) Lookup(provider, model string, when time.Time) (Price, bool) {
	m := t.resolve(provider, model)
	if m == nil {
		return Price{}, false
	}
	return at(m.prices, when)
}

// LookupServiceTier is [Table.Lookup] for a call that reports a service
// tier, such as OpenAI's "batch", "flex" or "priority". It returns the
// tier's price in effect at t when the table has one, and the standard price
// otherwise; the returned Price's ServiceTier says which applied. An empty
// tier is the standard price. It does not allocate when model is in lower
// case.
func (t *Table) LookupServiceTier(provider, model, tier string, when time.Time) (Price, bool) {
	m := t.resolve(provider, model)
	if m == nil {
		return Price{}, false
	}
	if tier != "" {
		for _, tp := range m.tiers {
			if tp.tier == tier {
				if p, ok := at(tp.prices, when); ok {
					return p, true
				}
				break
			}
		}
	}
	return at(m.prices, when)
}

// Len returns the number of dated prices in the table.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.entries
}

// Dataset names the public price dataset and version the shipped prices were
// generated from, or "" when the table holds none of them.
func (t *Table) Dataset() string {
	if t == nil {
		return ""
	}
	return t.dataset
}

// sortByEffective orders each model's prices oldest first.
func (t *Table) sortByEffective() {
	for _, m := range t.models {
		sortPrices(m.prices)
		for _, tp := range m.tiers {
			sortPrices(tp.prices)
		}
	}
}

// sortPrices orders prices oldest first, and the all-day price of a date
// before the ones limited to certain hours.
func sortPrices(prices []Price) {
	sort.SliceStable(prices, func(i, j int) bool {
		if !prices[i].Effective.Equal(prices[j].Effective) {
			return prices[i].Effective.Before(prices[j].Effective)
		}
		return prices[i].Hours.IsZero() && !prices[j].Hours.IsZero()
	})
}
