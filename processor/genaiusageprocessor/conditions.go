package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/ptrace"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
)

// conditions are the user's OTTL conditions, compiled once at start. A
// condition that fails to evaluate on a span is taken as false and logged at
// debug level; it never stops the span.
type conditions struct {
	blocked        *ottl.ConditionSequence[*ottlspan.TransformContext]
	rateLimited    *ottl.ConditionSequence[*ottlspan.TransformContext]
	usageEstimated *ottl.ConditionSequence[*ottlspan.TransformContext]
}

// newConditions compiles the conditions of cfg. The error names the
// configuration key of the first condition that does not parse.
func newConditions(cfg *Config, set component.TelemetrySettings) (conditions, error) {
	parser, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), set)
	if err != nil {
		return conditions{}, fmt.Errorf("genaiusage: cannot create the OTTL parser: %w", err)
	}
	var c conditions
	for _, list := range []struct {
		key   string
		texts []string
		dst   **ottl.ConditionSequence[*ottlspan.TransformContext]
	}{
		{"outcomes::blocked", cfg.Outcomes.Blocked, &c.blocked},
		{"outcomes::rate_limited", cfg.Outcomes.RateLimited, &c.rateLimited},
		{"usage_estimated", cfg.UsageEstimated, &c.usageEstimated},
	} {
		if len(list.texts) == 0 {
			continue
		}
		parsed := make([]*ottl.Condition[*ottlspan.TransformContext], 0, len(list.texts))
		for i, text := range list.texts {
			cond, err := parser.ParseCondition(text)
			if err != nil {
				return conditions{}, fmt.Errorf(
					"'%s[%d]' must be an OTTL condition on a span, e.g. "+
						"'attributes[\"http.response.status_code\"] == 429'; got %q: %w",
					list.key, i, text, err)
			}
			parsed = append(parsed, cond)
		}
		seq := ottlspan.NewConditionSequence(parsed, set,
			ottlspan.WithConditionSequenceErrorMode(ottl.SilentError))
		*list.dst = &seq
	}
	return c, nil
}

// any reports whether there is at least one condition.
func (c conditions) any() bool {
	return c.blocked != nil || c.rateLimited != nil || c.usageEstimated != nil
}

// spanRef is a span with the resource and scope it came in.
type spanRef struct {
	resource ptrace.ResourceSpans
	scope    ptrace.ScopeSpans
	span     ptrace.Span
}

// decidesOutcomes reports whether there is an outcome condition. Without
// one, the usual configuration, a call's outcome comes from its span alone
// and no transform context is made for it.
func (c *conditions) decidesOutcomes() bool {
	return c.rateLimited != nil || c.blocked != nil
}

// evalOutcome reports whether a rate_limited condition matches the call
// and, if none does, whether a blocked condition does.
func (c *conditions) evalOutcome(ctx context.Context, ref *spanRef) (rateLimited, blocked bool) {
	if !c.decidesOutcomes() {
		return false, false
	}
	tCtx := ottlspan.NewTransformContext(ref.resource, ref.scope, ref.span)
	defer tCtx.Close()
	if c.rateLimited != nil {
		if ok, _ := c.rateLimited.Eval(ctx, tCtx); ok {
			return true, false
		}
	}
	if c.blocked != nil {
		if ok, _ := c.blocked.Eval(ctx, tCtx); ok {
			return false, true
		}
	}
	return false, false
}

// evalEstimated reports whether a usage_estimated condition matches. It is
// inlined: without a condition it costs a comparison, and the transform
// context is made only when there is one to evaluate.
func (c *conditions) evalEstimated(ctx context.Context, ref *spanRef) bool {
	if c.usageEstimated == nil {
		return false
	}
	return c.evalEstimatedOn(ctx, ref)
}

// evalEstimatedOn evaluates the usage_estimated conditions, at least one.
func (c *conditions) evalEstimatedOn(ctx context.Context, ref *spanRef) bool {
	tCtx := ottlspan.NewTransformContext(ref.resource, ref.scope, ref.span)
	defer tCtx.Close()
	ok, _ := c.usageEstimated.Eval(ctx, tCtx)
	return ok
}

// nopTelemetry is the telemetry conditions are parsed with when the
// configuration is validated, before the processor has its own.
func nopTelemetry() component.TelemetrySettings {
	return component.TelemetrySettings{
		Logger:         zap.NewNop(),
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  metricnoop.NewMeterProvider(),
	}
}
