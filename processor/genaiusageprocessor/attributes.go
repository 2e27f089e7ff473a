package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/usage"
)

// maxWrittenAttributes is the most attributes write adds to a span.
const maxWrittenAttributes = 19

// write puts the call's facts onto its span's attributes: identity, outcome,
// provider, model, normalized token counts, cost and the flags that are true.
// Token counts go under the standard names with normalized values: input and
// output when the span reported usage, cache and reasoning counts when
// reported or non-zero, and any of them the span already carries, so that a
// counted span never keeps an unreadable value under a standard name.
func (c *call) write(attrs pcommon.Map) {
	// Grow the map once rather than once per attribute added.
	attrs.EnsureCapacity(attrs.Len() + maxWrittenAttributes)
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
	attrs.PutStr(usage.AttrProvider, c.provider)
	attrs.PutStr(usage.AttrModel, c.model)

	putCount(attrs, usage.AttrInputTokens, c.tokens.Input, c.hasUsage)
	putCount(attrs, usage.AttrOutputTokens, c.tokens.Output, c.hasUsage)
	putCount(attrs, usage.AttrCacheReadTokens, c.tokens.CacheRead, c.hasCacheRead)
	putCount(attrs, usage.AttrCacheWriteTokens, c.tokens.CacheWrite, c.hasCacheWrite)
	putCount(attrs, usage.AttrReasoningTokens, c.tokens.Reasoning, c.hasReasoning)

	if c.priced {
		attrs.PutInt(usage.AttrCostPicoUSD, c.costPicoUSD)
		attrs.PutDouble(usage.AttrCostUSD, float64(c.costPicoUSD)/usage.PicoUSDPerUSD)
	}
	putFlag(attrs, usage.AttrFiltered, c.filtered)
	putFlag(attrs, usage.AttrUnpriced, c.unpriced)
	putFlag(attrs, usage.AttrUsageMissing, c.usageMissing)
	putFlag(attrs, usage.AttrMalformed, c.malformed)
}

// putFlag writes a flag only when it is true, so absent means false.
func putFlag(attrs pcommon.Map, key string, set bool) {
	if set {
		attrs.PutBool(key, true)
	}
}

// putCount writes a normalized token count when it was reported, is not
// zero, or the span already has the attribute.
func putCount(attrs pcommon.Map, key string, n int64, reported bool) {
	if !reported && n == 0 {
		if _, ok := attrs.Get(key); !ok {
			return
		}
	}
	attrs.PutInt(key, n)
}
