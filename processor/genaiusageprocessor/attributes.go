package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/usage"
)

// write puts the call's facts onto its span's attributes: identity, outcome,
// kind, provider, target, models, normalized token counts, cost (with where
// it came from, or how far the span's own cost was from it), the adjusted
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
	if !c.requestModelNamed {
		putAbsent(attrs, usage.AttrRequestModel, c.requestModel)
	}
	if !c.responseModelNamed {
		putAbsent(attrs, usage.AttrResponseModel, c.responseModel)
	}

	putCount(attrs, qInput, c.tokens.Input, c.hasUsage, c.held)
	putCount(attrs, qOutput, c.tokens.Output, c.hasUsage, c.held)
	putCount(attrs, qCacheRead, c.tokens.CacheRead, c.hasCacheRead, c.held)
	putCount(attrs, qCacheWrite, c.tokens.CacheWrite, c.hasCacheWrite, c.held)
	putCount(attrs, qReasoning, c.tokens.Reasoning, c.hasReasoning, c.held)

	if c.priced {
		attrs.PutInt(usage.AttrCostPicoUSD, c.costPicoUSD)
		attrs.PutDouble(usage.AttrCostUSD, float64(c.costPicoUSD)/usage.PicoUSDPerUSD)
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

// attributesAdded returns how many attributes write adds to attrs.
func (c *call) attributesAdded() int {
	n := 7 // counted, org, connection, outcome, call kind, provider, model
	for _, s := range [...]string{
		c.team, c.costCenter, c.requestModel, c.responseModel, c.responseID,
	} {
		if s != "" {
			n++ // at most; a model the span names already is not written
		}
	}
	if c.target != c.provider {
		n++
	}
	for _, f := range [...]bool{
		c.filtered, c.unpriced, c.usageMissing, c.malformed, c.usageEstimated,
		c.costFromSpan, c.costCompared,
	} {
		if f {
			n++
		}
	}
	if c.priced {
		n += 2
	}
	if c.adjustedCount > 1 {
		n += 2
	}
	// The token counts putCount may add; one the span holds already is
	// updated in place instead.
	for _, counted := range [...]bool{
		c.hasUsage, c.hasUsage, c.hasCacheRead || c.tokens.CacheRead != 0,
		c.hasCacheWrite || c.tokens.CacheWrite != 0, c.hasReasoning || c.tokens.Reasoning != 0,
	} {
		if counted {
			n++
		}
	}
	return n
}

// putAbsent writes a model name under its standard attribute when the span
// does not carry that attribute yet.
func putAbsent(attrs pcommon.Map, key, value string) {
	if value == "" {
		return
	}
	if _, ok := attrs.Get(key); !ok {
		attrs.PutStr(key, value)
	}
}

// putFlag writes a flag only when it is true, so absent means false.
func putFlag(attrs pcommon.Map, key string, set bool) {
	if set {
		attrs.PutBool(key, true)
	}
}

// putCount writes the normalized count of quantity q under its standard
// name when it was reported, is not zero, or the span already has the
// attribute. held says what the span carried under each name before write
// began, which spares looking again. A count the span already holds as
// that very int is left as it is, which spares an allocation.
func putCount(attrs pcommon.Map, q quantity, n int64, reported bool, held [len(standardCounts)]heldCount) {
	switch h := held[q]; {
	case h.present && h.isInt && h.n == n:
		return
	case h.present:
		v, _ := attrs.Get(standardCounts[q])
		v.SetInt(n)
	case reported || n != 0:
		attrs.PutInt(standardCounts[q], n)
	}
}
