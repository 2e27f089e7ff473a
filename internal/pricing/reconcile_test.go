package pricing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReconcile(t *testing.T) {
	// The table computes $0.054399; a gateway reported $0.05 on the span.
	computed := usd(54_399)
	const reported = 0.05

	f := func(policy SpanCostPolicy, priced, hasReported bool, reportedUSD float64, want Reconciled) {
		t.Helper()
		assert.Equal(t, want, Reconcile(policy, computed, priced, reportedUSD, hasReported),
			"%s priced=%v reported=%v", policy, priced, hasReported)
	}
	// computed, also the default: the span's cost is ignored.
	f("", true, true, reported, Reconciled{PicoUSD: computed, Priced: true})
	f(SpanCostComputed, true, true, reported, Reconciled{PicoUSD: computed, Priced: true})
	f(SpanCostComputed, false, true, reported, Reconciled{PicoUSD: computed})
	// reported: the span's $0.05 = 50,000,000,000 pUSD wins, and prices a
	// call the table does not know; without one the computed cost stays.
	f(SpanCostReported, true, true, reported, Reconciled{PicoUSD: usd(50_000), Priced: true, FromSpan: true})
	f(SpanCostReported, false, true, reported, Reconciled{PicoUSD: usd(50_000), Priced: true, FromSpan: true})
	f(SpanCostReported, true, false, 0, Reconciled{PicoUSD: computed, Priced: true})
	// compare: computed wins; the span is $0.004399 lower.
	f(SpanCostCompare, true, true, reported,
		Reconciled{PicoUSD: computed, Priced: true, Compared: true, DiffPicoUSD: -usd(4_399)})
	f(SpanCostCompare, true, true, 0.06,
		Reconciled{PicoUSD: computed, Priced: true, Compared: true, DiffPicoUSD: usd(5_601)})
	f(SpanCostCompare, false, true, reported, Reconciled{PicoUSD: computed})
	// A span cost that is not a plausible amount is ignored and flagged.
	for _, bad := range []float64{-0.01, math.NaN(), math.Inf(1), 1e7} {
		f(SpanCostReported, true, true, bad, Reconciled{PicoUSD: computed, Priced: true, Invalid: true})
	}
}

func TestSpanCostPolicyValidate(t *testing.T) {
	for _, p := range []SpanCostPolicy{"", SpanCostComputed, SpanCostReported, SpanCostCompare} {
		require.NoError(t, p.Validate())
	}
	err := SpanCostPolicy("span").Validate()
	require.Error(t, err)
	assert.Equal(t, `span cost policy "span" is unknown; expecting "computed", "reported" or "compare"`,
		err.Error())
}

func TestReconcileDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Reconcile(SpanCostCompare, 10, true, 0.5, true)
	})
	assert.Zero(t, allocs)
}
