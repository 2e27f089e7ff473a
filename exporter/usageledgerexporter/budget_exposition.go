package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"cmp"
	"context"
	"io"
	"slices"
	"time"

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

// writeBudgets writes the budget gauges of the current month to w, as
// [readBudgets] reads them.
func writeBudgets(
	ctx context.Context,
	w io.Writer,
	store ledger.Store,
	budgets *BudgetsConfig,
	cal ledgerCalendar,
	now time.Time,
) error {
	states, err := readBudgets(ctx, store, budgets, cal, now, monthRows{})
	if err != nil {
		return err
	}
	sw := newSampleWriter(w)
	writeBudgetStates(sw, states)
	return sw.flush()
}

// monthRows are the rows of some months already read from the ledger.
type monthRows struct {
	months []string
	rows   []ledger.Row
}

// readBudgets returns the budgets of the current month: the budget, the
// spend so far and the month-end forecast. The current month is the
// organization's, in its time zone. It takes the current months' rows from
// read when it holds them all, reads them from store otherwise, and reads
// nothing when no budget is configured. The budgets must have passed
// [BudgetsConfig.Validate].
func readBudgets(
	ctx context.Context,
	store ledger.Store,
	budgets *BudgetsConfig,
	cal ledgerCalendar,
	now time.Time,
	read monthRows,
) ([]budgetState, error) {
	if budgets.Empty() {
		return nil, nil
	}
	// Each organization's current month is taken in its own zone, so near a
	// month's end two months may be current at once.
	var months []string
	for _, org := range budgets.orgs() {
		if m := cal.Month(org, now); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	rows := read.rows
	if !containsAll(read.months, months) {
		var err error
		if rows, err = store.Rows(ctx, months); err != nil {
			return nil, err
		}
	}
	// budgetStates skips the rows of other months.
	current := make(map[string]string)
	currentMonth := func(org string) string {
		m, ok := current[org]
		if !ok {
			m = cal.Month(org, now)
			current[org] = m
		}
		return m
	}
	states := budgetStates(budgets, rows, currentMonth)
	for i := range states {
		start, end := cal.MonthBounds(states[i].sortKey[0], now)
		states[i].forecast = forecastUSD(states[i].spend.USD(), start, end, now)
	}
	return states, nil
}

// writeBudgetStates writes the budget gauges of states, the families in
// order; nothing when there is no budget.
func writeBudgetStates(sw *sampleWriter, states []budgetState) {
	if len(states) == 0 {
		return
	}
	for _, f := range budgetFamilies {
		sw.metadata(f.name, f.help, "gauge")
		for i := range states {
			sw.float(f.name, states[i].labels, f.value(&states[i]))
		}
	}
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

func containsAll(have, want []string) bool {
	for _, m := range want {
		if !slices.Contains(have, m) {
			return false
		}
	}
	return true
}
