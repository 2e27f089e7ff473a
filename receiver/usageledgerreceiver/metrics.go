package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"cmp"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

// Metric names and units are chosen so that the Prometheus translation of
// the prometheus_remote_write exporter (underscores for dots, unit suffixes,
// _total on monotonic sums; its default) yields the exporter's /metrics
// names: genai.connection.requests with unit {request} becomes
// genai_connection_requests_total. Units in braces add no suffix; the cost
// carries "usd" in its name, as the unit {USD} adds none.
const (
	metricTokens   = "genai.connection.tokens"
	metricCost     = "genai.connection.cost_usd"
	metricLastSeen = "genai.connection.last_seen_timestamp"
	metricInfo     = "genai.connection.info"
)

// countMetric is one integer counter per org, connection, model and month.
type countMetric struct {
	name, unit, description string
	value                   func(c *ledger.Counters) uint64
}

// countMetrics are emitted in this order; tokens and cost follow them.
var countMetrics = []countMetric{
	{"genai.connection.requests", "{request}", "Counted calls, all outcomes.",
		func(c *ledger.Counters) uint64 { return c.Requests }},
	{"genai.connection.blocked", "{request}", "Calls a guardrail stopped before the model ran.",
		func(c *ledger.Counters) uint64 { return c.Blocked }},
	{"genai.connection.rate_limited", "{request}", "Calls a rate limit or quota throttled.",
		func(c *ledger.Counters) uint64 { return c.RateLimited }},
	{"genai.connection.errors", "{request}", "Calls that failed for another reason.",
		func(c *ledger.Counters) uint64 { return c.Errors }},
	{"genai.connection.filtered", "{request}", "Answered calls whose answer a content filter cut.",
		func(c *ledger.Counters) uint64 { return c.Filtered }},
	{"genai.connection.unpriced_requests", "{request}",
		"Calls no price matched; their cost is not in the cost total.",
		func(c *ledger.Counters) uint64 { return c.Unpriced }},
	{"genai.connection.usage_missing", "{request}", "Calls that reported no token usage.",
		func(c *ledger.Counters) uint64 { return c.UsageMissing }},
}

// buildMetrics turns the rows of the emitted months into cumulative
// monotonic sums that start at the start of their month in the zone the
// ledger recorded for the organization and month (recorded), or else in
// the organization's zone of cal; the connections with a row among them
// into last-seen and info gauges, and the budgets into gauges of their
// current month. Every point is stamped now.
func buildMetrics(
	rows []ledger.Row,
	conns []ledger.Connection,
	budgets []budget.State,
	cal calendar.Calendar,
	recorded map[ledger.OrgMonth]*time.Location,
	now time.Time,
) pmetric.Metrics {
	slices.SortFunc(rows, func(a, b ledger.Row) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Month, b.Month))
	})
	stamp := pcommon.NewTimestampFromTime(now)
	starts := monthStarts(rows, cal, recorded)

	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ms := sm.Metrics()

	for _, cm := range countMetrics {
		points := newSum(ms, cm.name, cm.unit, cm.description)
		points.EnsureCapacity(len(rows))
		for i := range rows {
			p := points.AppendEmpty()
			setRowPoint(p, &rows[i], starts[i], stamp)
			p.SetIntValue(clampInt64(cm.value(&rows[i].Counters)))
		}
	}

	points := newSum(ms, metricTokens, "{token}",
		"Tokens by type: input includes cache reads and writes, output includes reasoning.")
	for i := range rows {
		for _, tt := range ledger.TokenTypes {
			p := points.AppendEmpty()
			setRowPoint(p, &rows[i], starts[i], stamp)
			p.Attributes().PutStr("type", tt.Name)
			p.SetIntValue(clampInt64(tt.Value(&rows[i].Counters)))
		}
	}

	points = newSum(ms, metricCost, "{USD}", "Cost in USD, a view of the exact amount in the ledger.")
	for i := range rows {
		p := points.AppendEmpty()
		setRowPoint(p, &rows[i], starts[i], stamp)
		p.SetDoubleValue(rows[i].Cost.USD())
	}

	writeConnections(ms, rows, conns, stamp)
	writeBudgets(ms, budgets, stamp)
	return md
}

// writeConnections adds the last-seen and info gauges of the connections
// that have a row among rows, as the exporter lists them.
func writeConnections(ms pmetric.MetricSlice, rows []ledger.Row, conns []ledger.Connection, stamp pcommon.Timestamp) {
	byID := make(map[ledger.ConnectionID]ledger.ConnectionInfo)
	for i := range rows {
		id := ledger.ConnectionID{Org: rows[i].Org, Connection: rows[i].Connection}
		byID[id] = byID[id].Merge(ledger.ConnectionInfo{LastSeen: rows[i].LastSeen})
	}
	for _, c := range conns {
		if prev, ok := byID[c.ConnectionID]; ok {
			byID[c.ConnectionID] = prev.Merge(c.ConnectionInfo)
		}
	}
	ids := make([]ledger.ConnectionID, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ledger.ConnectionID) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection))
	})

	lastSeen := newGauge(ms, metricLastSeen, "s", "Unix time of the connection's latest call.")
	info := newGauge(ms, metricInfo, "",
		"Chargeback labels of the connection as of its latest call; always 1.")
	for _, id := range ids {
		ci := byID[id]
		p := lastSeen.AppendEmpty()
		p.SetTimestamp(stamp)
		putConnection(p.Attributes(), id)
		p.SetDoubleValue(float64(ci.LastSeen) / 1e9)

		p = info.AppendEmpty()
		p.SetTimestamp(stamp)
		putConnection(p.Attributes(), id)
		p.Attributes().PutStr("team", ci.Team)
		p.Attributes().PutStr("cost_center", ci.CostCenter)
		p.SetIntValue(1)
	}
}

func newSum(ms pmetric.MetricSlice, name, unit, description string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(description)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return sum.DataPoints()
}

func newGauge(ms pmetric.MetricSlice, name, unit, description string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(description)
	return m.SetEmptyGauge().DataPoints()
}

// setRowPoint sets the attributes and times of a row's point: it starts at
// the start of the row's month, so a backend sees one cumulative series per
// month that never resets.
func setRowPoint(p pmetric.NumberDataPoint, r *ledger.Row, start, stamp pcommon.Timestamp) {
	// Room for org, connection, model, month and the tokens' type.
	p.Attributes().EnsureCapacity(5)
	putConnection(p.Attributes(), ledger.ConnectionID{Org: r.Org, Connection: r.Connection})
	p.Attributes().PutStr("model", r.Model)
	p.Attributes().PutStr("month", r.Month)
	p.SetStartTimestamp(start)
	p.SetTimestamp(stamp)
}

// monthStarts returns the start of each row's month, in the zone recorded
// for its organization and month or else in its organization's zone,
// working each out once.
func monthStarts(
	rows []ledger.Row,
	cal calendar.Calendar,
	recorded map[ledger.OrgMonth]*time.Location,
) []pcommon.Timestamp {
	type zoneMonth struct {
		zone  *time.Location
		month string
	}
	byMonth := make(map[zoneMonth]pcommon.Timestamp)
	starts := make([]pcommon.Timestamp, len(rows))
	for i := range rows {
		zone, ok := recorded[ledger.OrgMonth{Org: rows[i].Org, Month: rows[i].Month}]
		if !ok {
			zone = cal.ZoneOf(rows[i].Org)
		}
		k := zoneMonth{zone, rows[i].Month}
		start, ok := byMonth[k]
		if !ok {
			start = pcommon.NewTimestampFromTime(calendar.MonthStartIn(zone, rows[i].Month))
			byMonth[k] = start
		}
		starts[i] = start
	}
	return starts
}

func putConnection(attrs pcommon.Map, id ledger.ConnectionID) {
	attrs.PutStr("org", id.Org)
	attrs.PutStr("connection", id.Connection)
}

// clampInt64 converts a count to the int64 of an OTel point, stopping at the
// largest int64: a count past 2^63 is beyond any real traffic.
func clampInt64(n uint64) int64 {
	if n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}
