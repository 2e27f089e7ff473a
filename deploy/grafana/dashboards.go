package grafana // import "github.com/usageledger/usageledger/deploy/grafana"

// Selectors of the dashboards' variables.
const (
	inOrg        = `org="$org"`
	inMonth      = `org="$org", month="$month"`
	inCompare    = `org="$org", month="$compare_month"`
	inConnection = `org="$org", connection="$connection", month="$month"`
	ofConnection = `org="$org", connection="$connection"`
)

var (
	orgVar   = Variable{Name: "org", Label: "Organization", Metric: requests, LabelName: "org"}
	monthVar = Variable{Name: "month", Label: "Month", Metric: requests + `{org="$org"}`,
		LabelName: "month", Newest: true}
	compareVar = Variable{Name: "compare_month", Label: "Compared with", Metric: requests + `{org="$org"}`,
		LabelName: "month", Newest: true}
	connectionVar = Variable{Name: "connection", Label: "Connection", Metric: requests + `{org="$org"}`,
		LabelName: "connection"}
)

// monthTotals are the stat panels of a month's counters for matchers.
func monthTotals(matchers string) []Panel {
	stat := func(title, unit, expr string) Panel {
		return Panel{Title: title, Kind: Stat, Unit: unit, Width: 4, Queries: []Query{{Expr: expr}}}
	}
	return []Panel{
		stat("Requests", "short", sumBy("", rows(requests, matchers))),
		stat("Tokens", "short", sumBy("", tokenRows(matchers+", "+inputOutput))),
		stat("Cost", "currencyUSD", sumBy("", rows(cost, matchers))),
		stat("Blocked", "short", sumBy("", rows(blocked, matchers))),
		stat("Rate limited", "short", sumBy("", rows(rateLimited, matchers))),
		stat("Errors", "short", sumBy("", rows(errorsTotal, matchers))),
	}
}

func organization() Dashboard {
	byConn := func(metric, matchers string) string { return sumBy("connection", rows(metric, matchers)) }
	thisCost := byConn(cost, inMonth)
	panels := monthTotals(inMonth)
	panels = append(panels,
		Panel{Title: "Connections", Kind: Table, Unit: "short", Width: 24,
			Description: "Share of the organization's spend, change in cost from the compared month, " +
				"blocked-to-request ratio and cost per request, this month.",
			Queries: []Query{
				{Legend: "Requests", Expr: byConn(requests, inMonth)},
				{Legend: "Cost", Expr: thisCost},
				{Legend: "Share of spend", Expr: thisCost + " / scalar(" + sumBy("", rows(cost, inMonth)) + ")"},
				{Legend: "Change from compared month", Expr: thisCost + " - (" + byConn(cost, inCompare) +
					" or " + thisCost + " * 0)"},
				{Legend: "Blocked ratio", Expr: byConn(blocked, inMonth) + " / " + byConn(requests, inMonth)},
				{Legend: "Cost per request", Expr: thisCost + " / " + byConn(requests, inMonth)},
			}},
		Panel{Title: "Chargeback by team and cost center", Kind: Table, Unit: "currencyUSD", Width: 12,
			Description: "Cost of the month by the connections' latest team and cost center labels.",
			Queries: []Query{{Legend: "Cost", Expr: sumBy("team, cost_center",
				sumBy("org, connection", rows(cost, inMonth))+
					" * on (org, connection) group_left (team, cost_center) "+
					"max by (org, connection, team, cost_center) ("+info+"{"+inOrg+"})")}}},
		Panel{Title: "Cost, last twelve months", Kind: Bars, Unit: "currencyUSD", Width: 12, XField: "month",
			Description: "Needs thirteen months of retention in the time-series store.",
			Queries:     []Query{{Legend: "Cost", Expr: sumBy("month", rows(cost, inOrg))}}},
		Panel{Title: "Requests, last twelve months", Kind: Bars, Unit: "short", Width: 12, XField: "month",
			Queries: []Query{{Legend: "Requests", Expr: sumBy("month", rows(requests, inOrg))}}},
	)
	return Dashboard{UID: "usageledger-organization", Title: "Usage Ledger / Organization",
		File:        "organization.json",
		Description: "Month-to-date usage and cost of one organization, by connection, with chargeback.",
		Variables:   []Variable{orgVar, monthVar, compareVar}, Panels: panels}
}

func connection() Dashboard {
	panels := monthTotals(inConnection)
	panels = append(panels,
		Panel{Title: "Requests and cost by month", Kind: Bars, Unit: "short", Width: 12, XField: "month",
			Description: "Each month the store holds: requests against the left axis, cost against the right.",
			Queries: []Query{
				{Legend: "Requests", Expr: sumBy("month", rows(requests, ofConnection))},
				{Legend: "Cost", Expr: sumBy("month", rows(cost, ofConnection)), Unit: "currencyUSD",
					RightAxis: true},
			}},
		Panel{Title: "Accumulated cost this month", Kind: TimeSeries, Unit: "currencyUSD", Width: 12,
			Description: "The month's cost as it grew; each point is the ledger's figure at that scrape.",
			Queries: []Query{{Legend: "Cost", Expr: sumBy("",
				"max by ("+ledgerLabels+") ("+cost+"{"+inConnection+"})")}}},
		Panel{Title: "By model", Kind: Table, Unit: "short", Width: 12,
			Queries: []Query{
				{Legend: "Requests", Expr: sumBy("model", rows(requests, inConnection))},
				{Legend: "Tokens", Expr: sumBy("model", tokenRows(inConnection+", "+inputOutput))},
				{Legend: "Cost", Expr: sumBy("model", rows(cost, inConnection))},
			}},
	)
	return Dashboard{UID: "usageledger-connection", Title: "Usage Ledger / Connection",
		File:        "connection.json",
		Description: "One connection: its month, its months, and its models.",
		Variables:   []Variable{orgVar, connectionVar, monthVar}, Panels: panels}
}

func health() Dashboard {
	rate := func(metric string) string {
		return `sum(rate({__name__=~"` + metric + `(_total)?"}[$__rate_interval]))`
	}
	series := func(title, unit string, qs ...Query) Panel {
		return Panel{Title: title, Kind: TimeSeries, Unit: unit, Width: 8, Queries: qs}
	}
	return Dashboard{UID: "usageledger-health", Title: "Usage Ledger / Collector health",
		File:        "health.json",
		Description: "The collector's own metrics (its telemetry endpoint, :8888 by default) and traffic it could not attribute.",
		Variables:   []Variable{orgVar, monthVar},
		Panels: []Panel{
			series("Malformed spans", "short",
				Query{Legend: "processor", Expr: rate("otelcol_processor_genaiusage_spans_malformed")},
				Query{Legend: "exporter", Expr: rate("otelcol_exporter_usageledger_malformed_spans")}),
			series("Overflow", "short",
				Query{Legend: "calls booked to _overflow", Expr: rate("otelcol_exporter_usageledger_calls_overflowed")}),
			series("Unpriced calls", "short",
				Query{Legend: "unpriced", Expr: rate("otelcol_processor_genaiusage_calls_unpriced")}),
			series("Dedup hits", "short",
				Query{Legend: "processor", Expr: rate("otelcol_processor_genaiusage_spans_duplicate")},
				Query{Legend: "exporter", Expr: rate("otelcol_exporter_usageledger_duplicate_spans")}),
			series("Commit failures", "short",
				Query{Legend: "failures", Expr: rate("otelcol_exporter_usageledger_commit_failures")}),
			series("Commit latency", "s",
				Query{Legend: "p99", Expr: `histogram_quantile(0.99, sum by (le) (rate({__name__=~` +
					`"otelcol_exporter_usageledger_commit_duration(_seconds)?_bucket"}[$__rate_interval])))`}),
			{Title: "Calls in organization default this month", Kind: Stat, Unit: "short", Width: 8,
				Description: "Calls whose organization attribute was missing; set it on the agents.",
				Queries:     []Query{{Expr: sumBy("", rows(requests, `org="default", month="$month"`))}}},
		}}
}
