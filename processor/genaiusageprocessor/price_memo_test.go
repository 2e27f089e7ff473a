package genaiusageprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/pricing"
)

// TestPriceMemoAgreesWithTable primes a memo with a lookup on one side of
// every change of the shipped prices of models priced by the hour and by
// date, looks the same model up again on the other side, and compares the
// answer with the table's own.
func TestPriceMemoAgreesWithTable(t *testing.T) {
	table, err := pricing.Builtin()
	require.NoError(t, err)

	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	// deepseek-chat is cheaper from 16:30 to 00:30 UTC; deepseek-v4-pro
	// has a new price from 2026-08-17, dearer from 01:00 to 04:00 and from
	// 06:00 to 10:00.
	changes := []time.Time{time.Date(2026, 8, 17, 0, 0, 0, 0, time.UTC)}
	for _, clock := range []time.Duration{
		0, 30 * time.Minute, time.Hour, 4 * time.Hour, 6 * time.Hour, 10 * time.Hour,
		16*time.Hour + 30*time.Minute,
	} {
		changes = append(changes, day.Add(clock))
	}
	offsets := []time.Duration{
		-time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Second - time.Nanosecond, time.Second,
	}
	models := []struct{ provider, model, tier string }{
		{"deepseek", "deepseek-chat", ""},
		{"deepseek", "deepseek-v4-pro", ""},
		{"openai", "gpt-4o-mini", ""},
		{"openai", "gpt-4o-mini", "flex"},
		{"openai", "gpt-4o-mini-x", ""},
	}
	straddled := 0
	for _, change := range changes {
		for _, m := range models {
			for _, first := range offsets {
				for _, second := range offsets {
					var memo priceMemo
					memo.lookup(table, m.provider, m.model, m.tier, change.Add(first))
					at := change.Add(second)
					want, wantFound := table.LookupServiceTier(m.provider, m.model, m.tier, at)
					got, found := memo.lookup(table, m.provider, m.model, m.tier, at)
					require.Equal(t, wantFound, found, "%+v at %v after %v", m, at, change.Add(first))
					require.Equal(t, want, *got, "%+v at %v after %v", m, at, change.Add(first))
					if before, _ := table.LookupServiceTier(m.provider, m.model, m.tier, change.Add(first)); before != want {
						straddled++
					}
				}
			}
		}
	}
	// The instants must straddle changes of price for the test to say
	// anything.
	assert.Positive(t, straddled)
}

// TestPriceMemoSameSecond shows what the memo saves: within one second it
// answers for the same model without the table, and it looks again for
// another model, tier or second.
func TestPriceMemoSameSecond(t *testing.T) {
	table, err := pricing.Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	var memo priceMemo
	price, found := memo.lookup(table, "openai", "gpt-4o-mini", "", at)
	require.True(t, found)
	first := *price
	assert.Equal(t, "gpt-4o-mini", first.Model)

	// A table the memo must not consult: nil prices nothing.
	var none *pricing.Table
	again, found := memo.lookup(none, "openai", "gpt-4o-mini", "", at.Add(999*time.Millisecond))
	assert.True(t, found)
	assert.Equal(t, first, *again)
	for _, l := range []struct {
		provider, model, tier string
		at                    time.Time
	}{
		{"openai", "gpt-4o-mini", "", at.Add(time.Second)},
		{"openai", "gpt-4o", "", at},
		{"azure.ai.openai", "gpt-4o-mini", "", at},
		{"openai", "gpt-4o-mini", "flex", at},
	} {
		_, found := memo.lookup(none, l.provider, l.model, l.tier, l.at)
		assert.False(t, found, "%+v", l)
	}
}

// TestPriceMemoHoldsFewPrices shows that the memo answers for the last
// priceMemoSize lookups, as a request alternating between models and tools
// needs, and forgets the oldest first.
func TestPriceMemoHoldsFewPrices(t *testing.T) {
	table, err := pricing.Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	models := []string{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "gpt-4.1", "gpt-4.1-mini"}
	require.Greater(t, len(models), priceMemoSize)
	var memo priceMemo
	var none *pricing.Table
	for _, model := range models[:priceMemoSize] {
		_, found := memo.lookup(table, "openai", model, "", at)
		require.True(t, found, model)
	}
	for _, model := range models[:priceMemoSize] {
		price, found := memo.lookup(none, "openai", model, "", at)
		require.True(t, found, model)
		assert.Equal(t, model, price.Model)
	}
	// One more model takes the place of the first.
	_, found := memo.lookup(table, "openai", models[priceMemoSize], "", at)
	require.True(t, found)
	_, found = memo.lookup(none, "openai", models[0], "", at)
	assert.False(t, found)
}
