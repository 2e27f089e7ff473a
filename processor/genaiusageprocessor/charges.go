package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
)

// serviceTierAttrs name the service tier a call was served in, the tier
// that answered (the response's) before the one asked for; the semantic
// conventions' openai.* names before their deprecated gen_ai.openai.* ones.
var serviceTierAttrs = [...]string{
	"openai.response.service_tier", "gen_ai.openai.response.service_tier",
	"openai.request.service_tier", "gen_ai.openai.request.service_tier",
}

// serviceTierSlots are the slots of serviceTierAttrs, in their order.
var serviceTierSlots = [...]attrSlot{
	slotServiceTier, slotServiceTierDeprecated,
	slotRequestServiceTier, slotRequestServiceTierDeprecated,
}

// serviceTier returns the service tier a call reports, in lower case, or ""
// when it reports none. A tier the price table has no price for (OpenAI's
// "default" or "auto") is priced at the standard price.
func (a *spanAttrs) serviceTier() string {
	for _, s := range serviceTierSlots {
		if tier := strings.TrimSpace(a.str(s)); tier != "" {
			return strings.ToLower(tier)
		}
	}
	return ""
}

// reportedCostAttrs name the cost, in USD, an instrumentation or gateway
// wrote on the span, the first present wins: gen_ai.usage.cost (OpenLIT,
// the name Langfuse reads), OpenInference's llm.cost.total, LiteLLM's
// litellm.cost.total (OpenTelemetry v2) and gen_ai.cost.total_cost (v1),
// and pydantic-ai's operation.cost.
var reportedCostAttrs = [...]string{
	usage.AttrCostUSD, "llm.cost.total", "litellm.cost.total", "gen_ai.cost.total_cost",
	"operation.cost",
}

// reportedCostSlots are the slots of reportedCostAttrs, in their order.
var reportedCostSlots = [...]attrSlot{
	slotCostUSD, slotOICost, slotLiteLLMCost, slotLiteLLMV1Cost, slotOperationCost,
}

// reportedCost returns the cost the span reports in USD and whether it
// reports one, as spanAttrs.reportedCost does.
func reportedCost(attrs pcommon.Map) (float64, bool) {
	var a spanAttrs
	a.read(attrs, nil)
	return a.reportedCost()
}

// reportedCost returns the cost the span reports in USD and whether it
// reports one. A double, an int or a decimal string is read as it is; any
// other value is reported as NaN, which [pricing.Reconcile] finds invalid.
func (a *spanAttrs) reportedCost() (float64, bool) {
	for _, s := range reportedCostSlots {
		v, ok := a.value(s)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeDouble:
			return v.Double(), true
		case pcommon.ValueTypeInt:
			return float64(v.Int()), true
		case pcommon.ValueTypeStr:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64); err == nil {
				return f, true
			}
		}
		return math.NaN(), true
	}
	return 0, false
}

// readCharges reads what, besides its tokens, decides the price of a call:
// the service tier it was served in and, unless the policy ignores it, the
// cost its span reports. It runs before write, which replaces
// gen_ai.usage.cost with the cost charged.
func (c *call) readCharges(a *spanAttrs, fam families, policy pricing.SpanCostPolicy) {
	// Only GenAI spans with an OpenAI attribute can name a tier.
	if fam&famGenAI != 0 && fam&famOpenAI != 0 {
		c.serviceTier = a.serviceTier()
	}
	if policy != "" && policy != pricing.SpanCostComputed {
		c.reportedUSD, c.hasReportedCost = a.reportedCost()
	}
}

// spanCostPolicy returns the policy in effect: computed when none is set.
func spanCostPolicy(policy pricing.SpanCostPolicy) pricing.SpanCostPolicy {
	if policy == "" {
		return pricing.SpanCostComputed
	}
	return policy
}

// reconcile settles the cost of a call that reached the model from the
// cost computed from the price table (priced false when there was none) and
// the span's own cost, as the policy says: it may charge the span's cost
// (costFromSpan), or keep the computed one and record how far the span's
// is from it (costCompared). A span cost that is not a finite amount from 0
// to about 9.2 million USD is ignored and marks the usage malformed.
func (c *call) reconcile(policy pricing.SpanCostPolicy, computed int64, priced bool) {
	if !c.hasReportedCost {
		// Nothing to reconcile: the call is charged what it computed to,
		// as pricing.Reconcile says of a span reporting no cost.
		c.costPicoUSD, c.priced, c.unpriced = computed, priced, !priced
		c.costFromSpan, c.costCompared, c.costDiffPicoUSD = false, false, 0
		return
	}
	r := pricing.Reconcile(policy, computed, priced, c.reportedUSD, c.hasReportedCost)
	c.costPicoUSD, c.priced = r.PicoUSD, r.Priced
	c.unpriced = !r.Priced
	c.costFromSpan = r.FromSpan
	c.costCompared, c.costDiffPicoUSD = r.Compared, r.DiffPicoUSD
	if r.Invalid {
		c.malformed = true
	}
}
