package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"cmp"
	"context"
	"io"
	"slices"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/usageledger/usageledger/internal/ledger"
)

// budgetFamilies are the budget gauges in the order they are written. Each
// has one series per budget: labels org and month for an organization's
// budget, and org, connection and month for a connection's, month being the
// current month.
var budgetFamilies = []struct {
	name, help string
	value      func(b *budgetState) float64
}{
	{"genai_budget_usd", "Monthly budget in USD, as configured.",
		func(b *budgetState) float64 { return b.budget.USD() }},
	{"genai_budget_spend_usd", "Spend in USD of the current month so far.",
		func(b *budgetState) float64 { return b.spend.USD() }},
	{"genai_budget_used_ratio", "Share of the monthly budget spent so far; 1 is the whole budget.",
		func(b *budgetState) float64 { return b.spend.USD() / b.budget.USD() }},
	{"genai_budget_forecast_usd", "Spend in USD at the end of the month at the month-to-date run rate: " +
		"spend × month length / max(time elapsed, 1 day).",
		func(b *budgetState) float64 { return b.forecast }},
}

// budgetState is one budget with the spend it watches.
type budgetState struct {
	labels   string
	sortKey  [2]string
	budget   ledger.Amount
	spend    ledger.Amount
	forecast float64
}

// writeBudgets writes the budget gauges of the current month to w: the
// budget, the spend so far, the share used and the month-end forecast. The
// current month is the organization's, in its time zone. It reads the
// current months' rows from store, and nothing when no budget is
// configured. The budgets must have passed [BudgetsConfig.Validate].
func writeBudgets(
	ctx context.Context,
	w io.Writer,
	store ledger.Store,
	budgets *BudgetsConfig,
	cal calendar,
	now time.Time,
) error {
	if budgets.Empty() {
		return nil
	}
	// Each organization's current month is taken in its own zone, so near a
	// month's end two months may be current at once.
	var months []string
	for _, org := range budgets.orgs() {
		if m := cal.month(org, now); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	rows, err := store.Rows(ctx, months)
	if err != nil {
		return err
	}
	states := budgetStates(budgets, rows, func(org string) string { return cal.month(org, now) })
	for i := range states {
		start, end := cal.monthBounds(states[i].sortKey[0], now)
		states[i].forecast = forecastUSD(states[i].spend.USD(), start, end, now)
	}

	for _, f := range budgetFamilies {
		writeMetadata(w, f.name, f.help, "gauge")
		for i := range states {
			metrics.WriteGaugeFloat64(w, f.name+"{"+states[i].labels+"}", f.value(&states[i]))
		}
	}
	return nil
}

// budgetStates adds the cost of the rows of each organization's current
// month to the budgets that watch them, and returns the budgets with
// organizations first, each group sorted.
func budgetStates(budgets *BudgetsConfig, rows []ledger.Row, currentMonth func(org string) string) []budgetState {
	byOrg := make(map[string]ledger.Amount)
	byConn := make(map[ledger.ConnectionID]ledger.Amount)
	for _, r := range rows {
		if r.Month != currentMonth(r.Org) {
			continue
		}
		byOrg[r.Org] = byOrg[r.Org].Add(r.Cost)
		id := ledger.ConnectionID{Org: r.Org, Connection: r.Connection}
		byConn[id] = byConn[id].Add(r.Cost)
	}

	monthLabel := func(org string) string { return `,month="` + labelValue(currentMonth(org)) + `"` }
	orgs := make([]budgetState, 0, len(budgets.Organizations))
	for _, b := range budgets.Organizations {
		amount, _ := parseUSD(b.MonthlyUSD)
		orgs = append(orgs, budgetState{
			labels:  `org="` + labelValue(b.Org) + `"` + monthLabel(b.Org),
			sortKey: [2]string{b.Org},
			budget:  amount,
			spend:   byOrg[b.Org],
		})
	}
	conns := make([]budgetState, 0, len(budgets.Connections))
	for _, b := range budgets.Connections {
		amount, _ := parseUSD(b.MonthlyUSD)
		conns = append(conns, budgetState{
			labels:  `org="` + labelValue(b.Org) + `",connection="` + labelValue(b.Connection) + `"` + monthLabel(b.Org),
			sortKey: [2]string{b.Org, b.Connection},
			budget:  amount,
			spend:   byConn[ledger.ConnectionID{Org: b.Org, Connection: b.Connection}],
		})
	}
	bySortKey := func(a, b budgetState) int {
		return cmp.Or(cmp.Compare(a.sortKey[0], b.sortKey[0]), cmp.Compare(a.sortKey[1], b.sortKey[1]))
	}
	slices.SortFunc(orgs, bySortKey)
	slices.SortFunc(conns, bySortKey)
	return append(orgs, conns...)
}
