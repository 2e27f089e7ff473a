package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/usage"
)

// write puts the call's facts onto its span's attributes: identity, outcome,
// kind, provider, target, models, normalized token counts, cost (with the
// instant it was priced at when not the span's end, where it came from, or
// how far the span's own cost was from it), the adjusted
// count of a sampled span and the flags that are true.
// Token counts go under the standard names with normalized values: input and
// output when the span reported usage, cache and reasoning counts when
// reported or non-zero, and any of them the span already carries, so that a
// counted span never keeps an unreadable value under a standard name.
func (c *call) write(attrs pcommon.Map) {
	// Grow the map once, to its final size, rather than once per attribute
	// added; the token counts the span already holds are updated in place.
	attrs.EnsureCapacity(attrs.Len() + c.attributesAdded())
	attrs.PutBool(usage.AttrCounted, true)
	attrs.PutStr(usage.AttrOrg, c.org)
	attrs.PutStr(usage.AttrConnection, c.connection)
	if c.team != "" {
		attrs.PutStr(usage.AttrTeam, c.team)
	}
	if c.costCenter != "" {
		attrs.PutStr(usage.AttrCostCenter, c.costCenter)
	}
	attrs.PutStr(usage.AttrOutcome, string(c.outcome))
	attrs.PutStr(usage.AttrCallKind, string(c.kind))
	attrs.PutStr(usage.AttrProvider, c.provider)
	if c.target != c.provider {
		attrs.PutStr(usage.AttrTarget, c.target)
	}
	attrs.PutStr(usage.AttrModel, c.model)
	if c.writesRequestModel() {
		attrs.PutStr(usage.AttrRequestModel, c.requestModel)
	}
	if c.writesResponseModel() {
		attrs.PutStr(usage.AttrResponseModel, c.responseModel)
	}

	c.putCount(attrs, qInput, c.tokens.Input, c.hasUsage)
	c.putCount(attrs, qOutput, c.tokens.Output, c.hasUsage)
	c.putCount(attrs, qCacheRead, c.tokens.CacheRead, c.hasCacheRead)
	c.putCount(attrs, qCacheWrite, c.tokens.CacheWrite, c.hasCacheWrite)
	c.putCount(attrs, qReasoning, c.tokens.Reasoning, c.hasReasoning)

	if c.priced {
		attrs.PutInt(usage.AttrCostPicoUSD, c.costPicoUSD)
		attrs.PutDouble(usage.AttrCostUSD, float64(c.costPicoUSD)/usage.PicoUSDPerUSD)
	}
	if c.pricedAt != 0 {
		attrs.PutInt(usage.AttrPricedAt, c.pricedAt)
	}
	if c.costFromSpan {
		attrs.PutStr(usage.AttrCostSource, usage.CostSourceReported)
	}
	if c.costCompared {
		attrs.PutInt(usage.AttrCostDiffPicoUSD, c.costDiffPicoUSD)
	}
	putFlag(attrs, usage.AttrFiltered, c.filtered)
	putFlag(attrs, usage.AttrUnpriced, c.unpriced)
	putFlag(attrs, usage.AttrUsageMissing, c.usageMissing)
	putFlag(attrs, usage.AttrMalformed, c.malformed)
	putFlag(attrs, usage.AttrUsageEstimated, c.usageEstimated)
	if c.adjustedCount > 1 {
		attrs.PutDouble(usage.AttrAdjustedCount, c.adjustedCount)
		attrs.PutBool(usage.AttrSampled, true)
	}
	if c.responseID != "" {
		// The ledger counts one call per trace and response id.
		attrs.PutStr(usage.AttrResponseID, c.responseID)
	}
}

// attributesAdded returns how many attributes write adds to attrs, in the
// order write adds them; at most, as an attribute of the usageledger
// namespace the span holds already is updated in place.
func (c *call) attributesAdded() int {
	sampled := c.adjustedCount > 1
	return 7 + // counted, org, connection, outcome, call kind, provider, model
		one(c.team != "") + one(c.costCenter != "") + one(c.target != c.provider) +
		one(c.writesRequestModel()) + one(c.writesResponseModel()) +
		one(c.addsCount(qInput, c.tokens.Input, c.hasUsage)) +
		one(c.addsCount(qOutput, c.tokens.Output, c.hasUsage)) +
		one(c.addsCount(qCacheRead, c.tokens.CacheRead, c.hasCacheRead)) +
		one(c.addsCount(qCacheWrite, c.tokens.CacheWrite, c.hasCacheWrite)) +
		one(c.addsCount(qReasoning, c.tokens.Reasoning, c.hasReasoning)) +
		2*one(c.priced) + // the cost in picodollars and in USD
		one(c.pricedAt != 0) +
		one(c.costFromSpan) + one(c.costCompared) +
		one(c.filtered) + one(c.unpriced) + one(c.usageMissing) + one(c.malformed) +
		one(c.usageEstimated) +
		2*one(sampled) + // the adjusted count and the sampled flag
		one(c.responseID != "")
}

// one returns 1 for true and 0 for false.
func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addsCount reports whether putCount adds the count n of quantity q: when
// it was reported or is not zero, and the span holds no count under its
// standard name yet.
func (c *call) addsCount(q quantity, n int64, reported bool) bool {
	return !c.held[q].present && (reported || n != 0)
}

// writesRequestModel and writesResponseModel report whether write puts the
// model under its standard attribute: when the span names it only in
// another dialect and does not carry that attribute at all.
func (c *call) writesRequestModel() bool {
	return !c.requestModelNamed && !c.requestModelHeld && c.requestModel != ""
}

func (c *call) writesResponseModel() bool {
	return !c.responseModelNamed && !c.responseModelHeld && c.responseModel != ""
}

// putFlag writes a flag only when it is true, so absent means false.
func putFlag(attrs pcommon.Map, key string, set bool) {
	if set {
		attrs.PutBool(key, true)
	}
}

// putCount writes the normalized count n of quantity q under its standard
// name when it was reported, is not zero, or the span already has the
// attribute. c.held says what the span carried under each name before
// write began, which spares looking again. A count the span already holds
// as that very int is left as it is, which spares an allocation.
func (c *call) putCount(attrs pcommon.Map, q quantity, n int64, reported bool) {
	switch h := &c.held[q]; {
	case h.present && h.isInt && h.n == n:
		return
	case h.present:
		v, _ := attrs.Get(standardCounts[q])
		v.SetInt(n)
	case reported || n != 0:
		attrs.PutInt(standardCounts[q], n)
	}
}
