package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"fmt"
	"math"
)

// SpanCostPolicy says what to do with a cost an instrumentation or gateway
// already wrote on the span (gen_ai.usage.cost, OpenInference
// llm.cost.total, LiteLLM's cost attributes) next to the one the price table
// computes.
type SpanCostPolicy string

const (
	// SpanCostComputed charges the computed cost and ignores the span's.
	SpanCostComputed SpanCostPolicy = "computed"
	// SpanCostReported charges the span's cost when it has one, and the
	// computed cost otherwise: for gateways that know negotiated prices.
	SpanCostReported SpanCostPolicy = "reported"
	// SpanCostCompare charges the computed cost and reports how far the
	// span's cost is from it.
	SpanCostCompare SpanCostPolicy = "compare"
)

// Validate reports whether p is one of the policies; empty stands for
// [SpanCostComputed].
func (p SpanCostPolicy) Validate() error {
	switch p {
	case "", SpanCostComputed, SpanCostReported, SpanCostCompare:
		return nil
	}
	return fmt.Errorf("span cost policy %q is unknown; expecting %q, %q or %q",
		string(p), SpanCostComputed, SpanCostReported, SpanCostCompare)
}

// maxReportedUSD is the largest reported cost that converts to int64
// picodollars: MaxInt64 / 1e12, about 9.2 million USD.
const maxReportedUSD = float64(math.MaxInt64/1_000_000_000_000) - 1

// Reconciled is the cost a call is charged after [Reconcile].
type Reconciled struct {
	// PicoUSD is the cost to charge; meaningful only when Priced.
	PicoUSD int64
	Priced  bool
	// FromSpan is true when PicoUSD is the span's own cost.
	FromSpan bool
	// Compared is true when the policy compared the two costs, both were
	// known, and DiffPicoUSD holds reported − computed (negative when the
	// span reported less than the table computes).
	Compared    bool
	DiffPicoUSD int64
	// Invalid is true when the span's cost was not a finite amount between
	// 0 and about 9.2 million USD; it was ignored.
	Invalid bool
}

// Reconcile decides the cost of a call from the computed cost (priced false
// when the table had no price) and the cost the span reported in USD
// (reported false when it had none). A reported cost is converted to whole
// picodollars, rounding to the nearest; it is a float, so it is exact only
// to about 15 significant digits. Reconcile does not allocate.
func Reconcile(policy SpanCostPolicy, computed int64, priced bool, reportedUSD float64, reported bool) Reconciled {
	r := Reconciled{PicoUSD: computed, Priced: priced}
	if !reported || policy == SpanCostComputed || policy == "" {
		return r
	}
	if math.IsNaN(reportedUSD) || reportedUSD < 0 || reportedUSD > maxReportedUSD {
		r.Invalid = true
		return r
	}
	span := int64(math.Round(reportedUSD * 1e12))
	switch policy {
	case SpanCostReported:
		r.PicoUSD, r.Priced, r.FromSpan = span, true, true
	case SpanCostCompare:
		if priced {
			r.Compared, r.DiffPicoUSD = true, span-computed
		}
	}
	return r
}
