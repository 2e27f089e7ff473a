package pricing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceTier(t *testing.T) {
	// gpt-4o at $2.50 / $10 per million, and half that in the batch tier
	// from 2026-01-01.
	table, err := Compile(append(BuiltinSources(), Source{Name: "tiers.yaml", Data: []byte(`
version: 1
prices:
  - provider: openai
    model: gpt-4o
    service_tier: batch
    effective: 2026-01-01
    input: 1.25
    output: 5
    source: {url: https://example.com/batch, read: 2026-01-01}
`)}), Options{})
	require.NoError(t, err)
	call := Tokens{Input: 10_000, Output: 1_000}

	f := func(tier string, at time.Time, wantTier string, want int64) {
		t.Helper()
		p, ok := table.LookupServiceTier("openai", "gpt-4o-2024-08-06", tier, at)
		require.True(t, ok)
		assert.Equal(t, wantTier, p.ServiceTier)
		got, err := p.Cost(call)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%q at %s", tier, at)
	}
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// Standard: 10,000 × $2.50/M + 1,000 × $10/M = $0.025 + $0.01 = $0.035.
	f("", dec, "", usd(35_000))
	// Batch: 10,000 × $1.25/M + 1,000 × $5/M = $0.0125 + $0.005 = $0.0175.
	f("batch", dec, "batch", usd(17_500))
	// A tier the table does not price, or a date before the tier's first
	// price, is charged the standard price, and says so.
	f("priority", dec, "", usd(35_000))
	f("batch", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), "", usd(35_000))
	// Lookup is the standard price.
	p, ok := table.Lookup("openai", "gpt-4o", dec)
	require.True(t, ok)
	assert.Empty(t, p.ServiceTier)

	_, err = Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, service_tier: batch, effective: 2026-01-01, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "openai m has only batch prices; expecting a standard price")
	_, err = Load([]byte(`
version: 1
prices:
  - {provider: openai, model: m, service_tier: Batch, effective: 2026-01-01, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'service_tier' "Batch" is not a lower-case tier name`)
}

func TestLookupServiceTierDoesNotAllocate(t *testing.T) {
	table, err := Builtin()
	require.NoError(t, err)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	allocs := testing.AllocsPerRun(100, func() {
		table.LookupServiceTier("openai", "gpt-4o", "batch", at)
	})
	assert.Zero(t, allocs)
}
