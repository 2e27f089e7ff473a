package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/provider"
	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

// outcomes lists every outcome in the order of batchCounts.counted.
var outcomes = [...]usage.Outcome{
	usage.OutcomeOK, usage.OutcomeBlocked, usage.OutcomeRateLimited, usage.OutcomeError,
}

// usageProcessor marks the spans that are billable calls and writes onto
// them what the ledger counts. It keeps no state between batches and is safe
// for concurrent use.
type usageProcessor struct {
	logger *zap.Logger
	cfg    *Config

	// Derivation.
	identities identityReader
	prices     *pricing.Table

	// Self-telemetry; outcomeAttrs holds one attribute set per outcome, built
	// once so recording allocates as little as possible.
	telemetry    *metadata.TelemetryBuilder
	outcomeAttrs [len(outcomes)]metric.AddOption
}

// batchCounts are the self-metrics of one batch, recorded once per batch.
type batchCounts struct {
	counted   [len(outcomes)]int64
	malformed int64
	unpriced  int64
}

func newUsageProcessor(set processor.Settings, cfg *Config, prices *pricing.Table) (*usageProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("genaiusage: cannot create telemetry: %w", err)
	}

	p := &usageProcessor{
		logger:     set.Logger,
		cfg:        cfg,
		identities: newIdentityReader(cfg),
		prices:     prices,
		telemetry:  tb,
	}
	for i, o := range outcomes {
		p.outcomeAttrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", string(o))))
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
		zap.Int("prices", p.prices.Len()),
	)
	return nil
}

// shutdown is safe to call more than once and without start.
func (p *usageProcessor) shutdown(context.Context) error {
	p.telemetry.Shutdown()
	return nil
}

// processTraces enriches the calls in td in place and returns it whole: no
// span is dropped or reordered.
func (p *usageProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var counts batchCounts
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		resource := rs.Resource().Attributes()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				p.processSpan(spans.At(k), resource, &counts)
			}
		}
	}
	p.record(ctx, &counts)
	return td, nil
}

// processSpan counts span if it is a call nobody counted yet.
func (p *usageProcessor) processSpan(span ptrace.Span, resource pcommon.Map, counts *batchCounts) {
	attrs := span.Attributes()
	if isCounted(attrs) || !isCall(span) {
		return
	}

	c := p.derive(span, resource)
	c.write(attrs)

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
	if p.logger.Core().Enabled(zap.DebugLevel) {
		p.logger.Debug("Counted GenAI call",
			zap.String("org", c.org),
			zap.String("connection", c.connection),
			zap.String("model", c.model),
			zap.String("outcome", string(c.outcome)))
	}
}

// derive reads everything the ledger needs from a span that is a call.
func (p *usageProcessor) derive(span ptrace.Span, resource pcommon.Map) call {
	attrs := span.Attributes()
	c := call{
		provider: provider.Normalize(stringAttr(attrs, attrProviderName, attrSystem)),
		model:    stringAttr(attrs, attrResponseModel, attrRequestModel),
		outcome:  classifyOutcome(span),
	}
	c.identity = p.identities.read(attrs, resource, c.provider)

	reported, malformed := readUsage(attrs)
	c.tokens = reported.normalized()
	c.hasUsage = reported.any()
	c.hasCacheRead = reported.cacheRead.present
	c.hasCacheWrite = reported.cacheWrite.present
	c.hasReasoning = reported.reasoning.present
	c.malformed = malformed

	c.filtered = c.outcome == usage.OutcomeOK && isFiltered(attrs)
	c.usageMissing = c.outcome == usage.OutcomeOK && !c.hasUsage

	p.price(&c, endTime(span))
	if c.model == "" {
		c.model = unknownValue
	}
	return c
}

// price sets the call's cost. A blocked or rate-limited call never reached
// the model and costs 0. Any other call costs its tokens at the price in
// effect at t; without a price it is unpriced, never guessed. A cost too
// large for the ledger marks the usage malformed and leaves the call
// unpriced.
func (p *usageProcessor) price(c *call, at time.Time) {
	price, found := p.prices.Lookup(c.provider, c.model, at)
	if found {
		c.model = price.Model
	}
	if c.outcome == usage.OutcomeBlocked || c.outcome == usage.OutcomeRateLimited {
		c.costPicoUSD, c.priced = 0, true
		return
	}
	if !found {
		c.unpriced = true
		return
	}
	cost, err := price.Cost(c.tokens)
	if err != nil {
		c.malformed, c.unpriced = true, true
		return
	}
	c.costPicoUSD, c.priced = cost, true
}

// earliestCallTime bounds the span times that are trusted: the ledger books
// a span dated before it at its arrival, so it is priced at arrival too.
var earliestCallTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// endTime is the instant a call is priced at: its end, else its start, else
// now for a span that carries no plausible time.
func endTime(span ptrace.Span) time.Time {
	for _, ts := range [...]pcommon.Timestamp{span.EndTimestamp(), span.StartTimestamp()} {
		if t := ts.AsTime(); ts != 0 && !t.Before(earliestCallTime) {
			return t
		}
	}
	return time.Now()
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
}
