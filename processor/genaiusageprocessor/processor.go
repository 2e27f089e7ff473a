package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

// outcomes lists every outcome in the order of batchCounts.counted.
var outcomes = [...]usage.Outcome{
	usage.OutcomeOK, usage.OutcomeBlocked, usage.OutcomeRateLimited, usage.OutcomeError,
}

// usageProcessor marks the spans that are billable calls and writes onto
// them what the ledger counts. It keeps no state between batches (the
// ledger recognizes spans of one call in different batches); it is safe for
// concurrent use.
type usageProcessor struct {
	logger *zap.Logger
	cfg    *Config

	// Derivation.
	identities identityReader
	prices     *pricing.Table
	conditions conditions

	// Self-telemetry; outcomeAttrs and settingAttrs hold one attribute set
	// per outcome and per setting of conditions, built once so recording
	// allocates as little as possible.
	telemetry    *metadata.TelemetryBuilder
	outcomeAttrs [len(outcomes)]metric.AddOption
	settingAttrs [numSettings]metric.AddOption
}

// batchCounts are the self-metrics of one batch, recorded once per batch.
type batchCounts struct {
	counted    [len(outcomes)]int64
	malformed  int64
	unpriced   int64
	duplicates int64
	sampled    int64
	estimated  int64
	// costDiffers counts calls whose reported cost differs from the computed.
	costDiffers int64
	// conditionErrors counts the OTTL conditions that failed on a span.
	conditionErrors conditionErrors
}

func newUsageProcessor(set processor.Settings, cfg *Config, prices *pricing.Table) (*usageProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("genaiusage: cannot create telemetry: %w", err)
	}
	conds, err := newConditions(cfg, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}

	p := &usageProcessor{
		logger:     set.Logger,
		cfg:        cfg,
		identities: newIdentityReader(cfg),
		prices:     prices,
		conditions: conds,
		telemetry:  tb,
	}
	for i, o := range outcomes {
		p.outcomeAttrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", string(o))))
	}
	for i, key := range settingKeys {
		p.settingAttrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("setting", key)))
	}
	return p, nil
}

func (p *usageProcessor) start(context.Context, component.Host) error {
	p.logger.Info("GenAI usage processor configured",
		zap.Strings("org_keys", p.cfg.OrgKeys),
		zap.String("default_org", p.cfg.DefaultOrg),
		zap.Strings("connection_keys", p.cfg.ConnectionKeys),
		zap.Strings("agent_keys", p.cfg.AgentKeys),
		zap.Strings("team_keys", p.cfg.TeamKeys),
		zap.Strings("cost_center_keys", p.cfg.CostCenterKeys),
		zap.Bool("count_tool_calls", p.cfg.CountToolCalls),
		zap.Bool("trust_counted_spans", p.cfg.TrustCountedSpans),
		zap.Int("blocked_conditions", len(p.cfg.Outcomes.Blocked)),
		zap.Int("rate_limited_conditions", len(p.cfg.Outcomes.RateLimited)),
		zap.Int("usage_estimated_conditions", len(p.cfg.UsageEstimated)),
		zap.Int("prices", p.prices.Len()),
		zap.String("price_dataset", p.prices.Dataset()),
		zap.String("span_cost", string(spanCostPolicy(p.cfg.Pricing.SpanCost))),
	)
	return nil
}

// shutdown is safe to call more than once and without start.
func (p *usageProcessor) shutdown(context.Context) error {
	p.telemetry.Shutdown()
	return nil
}

// processTraces enriches the calls in td in place and returns it whole: no
// span is dropped or reordered. It looks at every span once to find the
// calls, then links the calls of the batch to each other (wrappers,
// guardrail blocks) before counting them.
func (p *usageProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	b := p.collect(td)
	if b == nil {
		return td, nil
	}
	defer b.release()
	b.link()
	b.now = time.Now()
	// The level is looked up once per request rather than once per call.
	b.logCalls = p.logger.Core().Enabled(zap.DebugLevel)

	var counts batchCounts
	for i := range b.calls {
		c := &b.calls[i]
		if c.duplicate {
			if c.fam&famUsageLedger != 0 {
				clearNamespace(c.span.Attributes())
			}
			c.span.Attributes().PutBool(usage.AttrDuplicate, true)
			counts.duplicates++
			continue
		}
		p.count(ctx, b, c, &counts)
	}
	// A guardrail that blocked a request's input where the batch holds no
	// call for it stopped the request before any model call was made: it is
	// the one record of a blocked call.
	for i := range b.guards {
		g := &b.guards[i]
		if g.input && !g.linked {
			p.count(ctx, b, &candidate{
				spanRef: g.spanRef, kind: usage.CallModel, fam: attributeFamilies(g.span.Attributes()),
				blocked: true,
			}, &counts)
		}
	}
	counts.conditionErrors = b.conditionErrors
	p.record(ctx, &counts)
	return td, nil
}

// collect returns the calls and guardrail blocks of td, or nil when it has
// none. The batch comes from a pool at the first one, so a request without
// any allocates nothing, and a span without GenAI attributes costs one pass
// over its attribute keys.
func (p *usageProcessor) collect(td ptrace.Traces) *batch {
	var b *batch
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				attrs := span.Attributes()
				fam := attributeFamilies(attrs)
				// Only a span with a key under usageledger. can be counted
				// already.
				marked := fam&famUsageLedger != 0
				if marked && p.cfg.TrustCountedSpans && isCounted(attrs) {
					continue
				}
				// Marks not trusted, for want of trust or of a collector's
				// whole set of them, leave no counted mark, which is all the
				// exporter goes by, and no duplicate mark on a span this
				// processor does not count. A span it counts has its marks
				// replaced in count; a guardrail span counted as a blocked
				// call gets its mark back there.
				if fam&^famUsageLedger == 0 {
					if marked {
						unmarkCounted(attrs)
					}
					continue
				}
				kind := callKind(span, fam, p.cfg.CountToolCalls)
				blocked, input := false, false
				if kind == "" {
					blocked, input = guardrailBlock(span, fam)
					if marked {
						unmarkCounted(attrs)
					}
					if !blocked {
						continue
					}
				}
				if b == nil {
					b = getBatch()
				}
				ref := spanRef{resource: rs, scope: ss, span: span}
				if kind != "" {
					b.calls = append(b.calls, candidate{
						spanRef: ref, kind: kind, fam: fam,
						responseID: responseID(attrs, fam), responseRead: true,
					})
				} else {
					b.guards = append(b.guards, guard{spanRef: ref, input: input})
				}
			}
		}
	}
	return b
}

// count derives and writes the facts of one call and adds it to counts.
func (p *usageProcessor) count(ctx context.Context, b *batch, cand *candidate, counts *batchCounts) {
	if !b.resourceRead || b.resourceOf != cand.resource {
		p.identities.lookup(cand.resource.Resource().Attributes(), &b.resource)
		b.resourceOf, b.resourceRead = cand.resource, true
		clear(b.identities)
		b.identities = b.identities[:0]
	}
	var c call
	p.derive(ctx, b, cand, &c)
	if cand.fam&famUsageLedger != 0 {
		clearNamespace(cand.span.Attributes())
	}
	c.write(cand.span.Attributes())

	for i, o := range outcomes {
		if o == c.outcome {
			counts.counted[i]++
		}
	}
	if c.malformed {
		counts.malformed++
	}
	if c.unpriced {
		counts.unpriced++
	}
	if c.adjustedCount > 1 {
		counts.sampled++
	}
	if c.usageEstimated {
		counts.estimated++
	}
	if c.costCompared && c.costDiffPicoUSD != 0 {
		counts.costDiffers++
	}
	if b.logCalls {
		p.logger.Debug("Counted GenAI call",
			zap.String("org", c.org),
			zap.String("connection", c.connection),
			zap.String("kind", string(c.kind)),
			zap.String("model", c.model),
			zap.String("outcome", string(c.outcome)))
	}
}

// derive reads into c, a zero call, everything the ledger needs from a
// span that is a call, in one pass over its attributes.
func (p *usageProcessor) derive(ctx context.Context, b *batch, cand *candidate, c *call) {
	span := cand.span
	a := &b.attrs
	a.reset()
	a.read(span.Attributes(), p.identities.keys)
	c.kind = cand.kind
	c.provider = a.providerOf(cand.fam, &b.provider)
	c.requestModel = a.stringAttr(slotRequestModel)
	c.responseModel = a.stringAttr(slotResponseModel)
	c.requestModelNamed, c.responseModelNamed = c.requestModel != "", c.responseModel != ""
	c.requestModelHeld, c.responseModelHeld = a.has(slotRequestModel), a.has(slotResponseModel)
	if c.requestModel == "" && cand.fam&(famLLM|famVercel) != 0 {
		c.requestModel = a.stringAttr(slotOIRequestModel, slotAIModel)
	}
	if c.responseModel == "" && cand.fam&(famLLM|famVercel) != 0 {
		c.responseModel = a.stringAttr(slotOIResponseModel, slotAIRespModel)
	}
	c.model = c.responseModel
	if c.model == "" && cand.fam&famLLM != 0 {
		c.model = a.stringAttr(slotOIModel, slotOIEmbeddingModel)
	}
	if c.model == "" {
		c.model = c.requestModel
	}

	scope := cand.scope.Scope().Name()
	malformed := a.readUsage(cand.fam, c.provider, scope)
	reported := &a.usage
	c.tokens = reported.normalized()
	c.held = reported.held
	c.hasUsage = reported.any()
	c.hasCacheRead = reported.cacheRead.present
	c.hasCacheWrite = reported.cacheWrite.present
	c.hasReasoning = reported.reasoning.present
	c.malformed = malformed

	c.outcome = p.outcome(ctx, b, cand, a, c.tokens.Output)
	c.filtered = c.outcome == usage.OutcomeOK && (cand.filtered || a.finishSays(cand.fam) != 0)
	c.usageMissing = c.outcome == usage.OutcomeOK && !c.hasUsage && c.kind != usage.CallTool &&
		c.kind != usage.CallMCP
	c.usageEstimated = c.hasUsage &&
		(a.knownEstimate(scope, c.provider, c.model) ||
			p.conditions.evalEstimated(ctx, &cand.spanRef, &b.conditionErrors))
	c.adjustedCount = adjustedCount(span.TraceState().AsRaw())

	c.target = a.targetOf(c.kind, c.provider)
	if c.kind == usage.CallTool || c.kind == usage.CallMCP {
		c.model = a.toolName()
	}
	c.identity = p.identityOf(b, a, c.target)

	c.readCharges(a, cand.fam, p.cfg.Pricing.SpanCost)
	c.responseID = cand.responseID
	if !cand.responseRead {
		c.responseID = a.responseID()
	}
	at, notAtEnd := pricedAt(span, b.now)
	if notAtEnd {
		c.pricedAt = at.UnixNano()
	}
	p.price(c, &b.prices, at)
	if c.model == "" {
		c.model = unknownValue
	}
}

// outcome says how a call ended: the user's conditions first, then a
// guardrail span of the batch that blocked it, then the span's own signals,
// which a holds.
func (p *usageProcessor) outcome(
	ctx context.Context,
	b *batch,
	cand *candidate,
	a *spanAttrs,
	outputTokens int64,
) usage.Outcome {
	if p.conditions.decidesOutcomes() {
		switch rateLimited, blocked := p.conditions.evalOutcome(ctx, &cand.spanRef, &b.conditionErrors); {
		case rateLimited:
			return usage.OutcomeRateLimited
		case blocked:
			return usage.OutcomeBlocked
		}
	}
	if cand.blocked {
		return usage.OutcomeBlocked
	}
	return a.classifyOutcome(cand.span, cand.fam, outputTokens)
}

// price sets the call's cost. A blocked or rate-limited call never reached
// the model and costs 0. Any other call costs its tokens at the price in
// effect at t for the service tier it reports (the standard price when the
// table has none for the tier); without a price it is unpriced, never
// guessed. A cost too large for the ledger marks the usage malformed and
// leaves the call unpriced. The cost the span itself reports is then
// charged or compared as pricing::span_cost says.
func (p *usageProcessor) price(c *call, memo *priceMemo, at time.Time) {
	priceProvider, priceModel := c.provider, c.model
	switch c.kind {
	case usage.CallTool, usage.CallMCP:
		// A tool or MCP server is priced per call under its target:
		// provider "tool" or "mcp", model the tool's name or the server.
		priceProvider, priceModel, _ = strings.Cut(c.target, ":")
	}
	price, found := memo.lookup(p.prices, priceProvider, priceModel, c.serviceTier, at)
	if found && c.kind != usage.CallTool && c.kind != usage.CallMCP {
		c.model = price.Model
	}
	if c.outcome == usage.OutcomeBlocked || c.outcome == usage.OutcomeRateLimited {
		c.costPicoUSD, c.priced = 0, true
		return
	}
	var cost int64
	if found {
		var err error
		if cost, err = price.Cost(c.tokens); err != nil {
			c.malformed, cost, found = true, 0, false
		}
	}
	c.reconcile(p.cfg.Pricing.SpanCost, cost, found)
}

// unmarkCounted removes the counted and duplicate marks from a span this
// processor does not count, every copy of them: OTLP lets a key repeat,
// and the exporter reads the first copy left. A collector further on that
// counts more kinds of call than this one, and trusts marks, would take a
// span marked duplicate as counted already.
func unmarkCounted(attrs pcommon.Map) {
	attrs.RemoveIf(func(key string, _ pcommon.Value) bool {
		return key == usage.AttrCounted || key == usage.AttrDuplicate
	})
}

// clearNamespace removes every attribute under usageledger. from a span
// about to be counted, or marked a duplicate, here: what write puts back is
// derived again, the identity keys under the namespace included, which
// were read before. Left in place, a mark the exporter reads and write
// does not set on this call (a flag, an adjusted count, a priced-at time)
// would be counted as this processor's.
func clearNamespace(attrs pcommon.Map) {
	attrs.RemoveIf(func(key string, _ pcommon.Value) bool {
		return strings.HasPrefix(key, usageNamespace)
	})
}

// pricedAt returns the instant a call is priced at, and whether that is
// not its span's end: the end, unless it is missing, before 2000, or more
// than usage.FutureSkew after now, when the call is priced now. The
// exporter books the call at the same instant (see usage.AttrPricedAt).
func pricedAt(span ptrace.Span, now time.Time) (time.Time, bool) {
	end := span.EndTimestamp()
	if t := end.AsTime(); end != 0 && !t.Before(usage.EarliestCallTime) && !t.After(now.Add(usage.FutureSkew)) {
		return t, false
	}
	return now, true
}

// record adds a batch's counts to the self-metrics.
func (p *usageProcessor) record(ctx context.Context, counts *batchCounts) {
	for i, n := range counts.counted {
		if n > 0 {
			p.telemetry.ProcessorGenaiusageCallsCounted.Add(ctx, n, p.outcomeAttrs[i])
		}
	}
	if counts.malformed > 0 {
		p.telemetry.ProcessorGenaiusageSpansMalformed.Add(ctx, counts.malformed)
	}
	if counts.unpriced > 0 {
		p.telemetry.ProcessorGenaiusageCallsUnpriced.Add(ctx, counts.unpriced)
	}
	if counts.duplicates > 0 {
		p.telemetry.ProcessorGenaiusageSpansDuplicate.Add(ctx, counts.duplicates)
	}
	if counts.sampled > 0 {
		p.telemetry.ProcessorGenaiusageCallsSampled.Add(ctx, counts.sampled)
	}
	if counts.estimated > 0 {
		p.telemetry.ProcessorGenaiusageCallsUsageEstimated.Add(ctx, counts.estimated)
	}
	if counts.costDiffers > 0 {
		p.telemetry.ProcessorGenaiusageCallsCostDiffers.Add(ctx, counts.costDiffers)
	}
	for i, n := range counts.conditionErrors {
		if n > 0 {
			p.telemetry.ProcessorGenaiusageConditionErrors.Add(ctx, n, p.settingAttrs[i])
		}
	}
}
