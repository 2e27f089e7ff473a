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

// conditions are the user's OTTL conditions, compiled once at start, by
// setting. A condition that fails to evaluate on a span is taken as false,
// counted in the batch's conditionErrors and logged at debug level; it
// never stops the span, and the setting's next condition is tried.
type conditions struct {
	logger *zap.Logger
	sets   [numSettings][]*ottl.Condition[*ottlspan.TransformContext]
}

// The settings that hold conditions, in the order of settingKeys.
const (
	settingBlocked = iota
	settingRateLimited
	settingUsageEstimated
	numSettings
)

// settingKeys are the configuration keys of the settings.
var settingKeys = [numSettings]string{
	settingBlocked:        "outcomes::blocked",
	settingRateLimited:    "outcomes::rate_limited",
	settingUsageEstimated: "usage_estimated",
}

// conditionErrors counts the evaluations that failed, by setting.
type conditionErrors [numSettings]int64

// newConditions compiles the conditions of cfg. The error names the
// configuration key of the first condition that does not parse.
func newConditions(cfg *Config, set component.TelemetrySettings) (conditions, error) {
	parser, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), set)
	if err != nil {
		return conditions{}, fmt.Errorf("genaiusage: cannot create the OTTL parser: %w", err)
	}
	c := conditions{logger: set.Logger}
	texts := [numSettings][]string{
		settingBlocked:        cfg.Outcomes.Blocked,
		settingRateLimited:    cfg.Outcomes.RateLimited,
		settingUsageEstimated: cfg.UsageEstimated,
	}
	for setting, list := range texts {
		for i, text := range list {
			cond, err := parser.ParseCondition(text)
			if err != nil {
				return conditions{}, fmt.Errorf(
					"'%s[%d]' must be an OTTL condition on a span, e.g. "+
						"'attributes[\"http.response.status_code\"] == 429'; got %q: %w",
					settingKeys[setting], i, text, err)
			}
			c.sets[setting] = append(c.sets[setting], cond)
		}
	}
	return c, nil
}

// any reports whether there is at least one condition.
func (c conditions) any() bool {
	for _, set := range c.sets {
		if len(set) > 0 {
			return true
		}
	}
	return false
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
	return len(c.sets[settingRateLimited]) > 0 || len(c.sets[settingBlocked]) > 0
}

// evalOutcome reports whether a rate_limited condition matches the call
// and, if none does, whether a blocked condition does.
func (c *conditions) evalOutcome(
	ctx context.Context,
	ref *spanRef,
	errs *conditionErrors,
) (rateLimited, blocked bool) {
	if !c.decidesOutcomes() {
		return false, false
	}
	tCtx := ottlspan.NewTransformContext(ref.resource, ref.scope, ref.span)
	defer tCtx.Close()
	if c.matches(ctx, settingRateLimited, tCtx, errs) {
		return true, false
	}
	return false, c.matches(ctx, settingBlocked, tCtx, errs)
}

// evalEstimated reports whether a usage_estimated condition matches. It is
// inlined: without a condition it costs a comparison, and the transform
// context is made only when there is one to evaluate.
func (c *conditions) evalEstimated(ctx context.Context, ref *spanRef, errs *conditionErrors) bool {
	if len(c.sets[settingUsageEstimated]) == 0 {
		return false
	}
	return c.evalEstimatedOn(ctx, ref, errs)
}

// evalEstimatedOn evaluates the usage_estimated conditions, at least one.
func (c *conditions) evalEstimatedOn(ctx context.Context, ref *spanRef, errs *conditionErrors) bool {
	tCtx := ottlspan.NewTransformContext(ref.resource, ref.scope, ref.span)
	defer tCtx.Close()
	return c.matches(ctx, settingUsageEstimated, tCtx, errs)
}

// matches reports whether a condition of setting holds on tCtx, counting
// in errs each one that fails to evaluate.
func (c *conditions) matches(
	ctx context.Context,
	setting int,
	tCtx *ottlspan.TransformContext,
	errs *conditionErrors,
) bool {
	for i, cond := range c.sets[setting] {
		ok, err := cond.Eval(ctx, tCtx)
		if err != nil {
			errs[setting]++
			if c.logger != nil && c.logger.Core().Enabled(zap.DebugLevel) {
				c.logger.Debug("An OTTL condition failed on a span and is taken as false",
					zap.String("setting", fmt.Sprintf("%s[%d]", settingKeys[setting], i)),
					zap.String("condition", cond.String()), zap.Error(err))
			}
			continue
		}
		if ok {
			return true
		}
	}
	return false
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
