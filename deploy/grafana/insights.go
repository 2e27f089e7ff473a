package grafana // import "github.com/usageledger/usageledger/deploy/grafana"

// The thresholds of the insights are dashboard variables with these
// defaults; the alert rules use the same values.
var (
	idleDaysVar = Variable{Name: "idle_days", Label: "Idle after (days)", Values: "30,7,14,60,90"}
	shareVar    = Variable{Name: "share", Label: "Disproportionate share", Values: "0.5,0.3,0.7"}
	blockedVar  = Variable{Name: "blocked_ratio", Label: "High blocked ratio", Values: "0.2,0.05,0.1,0.5"}
	growthVar   = Variable{Name: "growth", Label: "Cost per request growth", Values: "2,1.5,3,5"}
)

func insights() Dashboard {
	byConn := func(metric, matchers string) string {
		return sumBy("org, connection", rows(metric, matchers))
	}
	costPerRequest := func(matchers string) string {
		return "(" + byConn(cost, matchers) + " / " + byConn(requests, matchers) + ")"
	}
	share := byConn(cost, inMonth) + " / on (org) group_left " + sumBy("org", rows(cost, inMonth))
	table := func(title, unit, description string, qs ...Query) Panel {
		return Panel{Title: title, Kind: Table, Unit: unit, Width: 12, Description: description, Queries: qs}
	}
	return Dashboard{UID: "usageledger-insights", Title: "Usage Ledger / Insights",
		File:        "insights.json",
		Description: "What totals hide: idle connections, one connection taking the spend, guardrails firing, costs outgrowing traffic, calls without a price, budgets running out.",
		Variables:   []Variable{orgVar, monthVar, compareVar, idleDaysVar, shareVar, blockedVar, growthVar},
		Panels: []Panel{
			table("Idle connections", "short",
				"Connections with calls in earlier months and none in this one: requests before.",
				Query{Legend: "Requests before", Expr: "(" + byConn(requests, inOrg+`, month!="$month"`) +
					" > 0) unless on (org, connection) (" + byConn(requests, inMonth) + " > 0)"}),
			table("Last seen long ago", "d",
				"Days since the connection's latest call, past the idle threshold.",
				Query{Legend: "Days since last call", Expr: "(time() - max by (org, connection) (last_over_time(" +
					lastSeen + "{" + inOrg + "}[" + History + "]))) / 86400 > $idle_days"}),
			table("Disproportionate consumers", "percentunit",
				"Connections with more than the threshold share of the organization's spend this month.",
				Query{Legend: "Share of spend", Expr: share + " > $share"}),
			table("Guardrail signal", "percentunit",
				"Connections whose blocked-to-request ratio this month is above the threshold.",
				Query{Legend: "Blocked ratio", Expr: byConn(blocked, inMonth) + " / " + byConn(requests, inMonth) +
					" > $blocked_ratio"}),
			table("Cost growing faster than requests", "short",
				"Cost per request this month over the compared month: a dearer model or longer contexts.",
				Query{Legend: "Cost per request growth", Expr: costPerRequest(inMonth) + " / " +
					costPerRequest(inCompare) + " > $growth"}),
			table("Unpriced and usage-missing calls", "short",
				"Calls no price matched (their cost is missing) and calls that reported no usage, this month.",
				Query{Legend: "Unpriced", Expr: sumBy("org, connection, model", rows(unpriced, inMonth)) + " > 0"},
				Query{Legend: "Usage missing", Expr: sumBy("org, connection, model", rows(usageMissing, inMonth)) +
					" > 0"}),
			table("Budgets", "percentunit",
				"Share of each budget used, and the month-end forecast as a share of the budget.",
				Query{Legend: "Used", Expr: `max by (org, connection, month) (genai_budget_used_ratio{` + inOrg + `})`},
				Query{Legend: "Forecast", Expr: `max by (org, connection, month) (genai_budget_forecast_usd{` +
					inOrg + `}) / max by (org, connection, month) (genai_budget_usd{` + inOrg + `})`}),
		}}
}
