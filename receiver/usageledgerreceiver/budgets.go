package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/usageledger/usageledger/internal/budget"
)

// budgetGauges are the gauges of each budget's current month, in the order
// they are emitted. Their Prometheus translation is the usageledger
// exporter's budget series: units in braces add no suffix, and the unit 1
// of a gauge adds _ratio, which the name already ends with.
var budgetGauges = []struct {
	name, unit, description string
	value                   func(s *budget.State) float64
}{
	{"genai.budget.usd", "{USD}", "Monthly budget in USD, as configured.",
		func(s *budget.State) float64 { return s.Budget.USD() }},
	{"genai.budget.spend_usd", "{USD}", "Spend in USD of the current month so far.",
		func(s *budget.State) float64 { return s.Spend.USD() }},
	{"genai.budget.used_ratio", "1", "Share of the monthly budget spent so far; 1 is the whole budget.",
		func(s *budget.State) float64 { return s.UsedRatio() }},
	{"genai.budget.forecast_usd", "{USD}", "Spend in USD at the end of the month at the month-to-date run rate: " +
		"spend × month length / max(time elapsed, 1 day).",
		func(s *budget.State) float64 { return s.ForecastUSD }},
}

// writeBudgets adds the budget gauges of states, one point per budget with
// the attributes org, connection for a connection's budget, and month.
// Nothing is added when no budget is configured, as /metrics has no budget
// families then.
func writeBudgets(ms pmetric.MetricSlice, states []budget.State, stamp pcommon.Timestamp) {
	if len(states) == 0 {
		return
	}
	for _, g := range budgetGauges {
		points := newGauge(ms, g.name, g.unit, g.description)
		points.EnsureCapacity(len(states))
		for i := range states {
			s := &states[i]
			p := points.AppendEmpty()
			p.SetTimestamp(stamp)
			attrs := p.Attributes()
			attrs.PutStr("org", s.Org)
			if s.Connection != "" {
				attrs.PutStr("connection", s.Connection)
			}
			attrs.PutStr("month", s.Month)
			p.SetDoubleValue(g.value(s))
		}
	}
}
