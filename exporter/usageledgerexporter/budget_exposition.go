package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"
	"io"
	"time"

	"github.com/usageledger/usageledger/internal/budget"
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
		func(b *budgetState) float64 { return b.Budget.USD() }},
	{"genai_budget_spend_usd", "Spend in USD of the current month so far.",
		func(b *budgetState) float64 { return b.Spend.USD() }},
	{"genai_budget_used_ratio", "Share of the monthly budget spent so far; 1 is the whole budget.",
		func(b *budgetState) float64 { return b.UsedRatio() }},
	{"genai_budget_forecast_usd", "Spend in USD at the end of the month at the month-to-date run rate: " +
		"spend × month length / max(time elapsed, 1 day).",
		func(b *budgetState) float64 { return b.ForecastUSD }},
}

// budgetState is one budget with the spend it watches.
type budgetState = budget.State

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

// readBudgets returns the budgets of the current month as [budget.Read]
// does, taking the current months' rows from read when it holds them all.
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
	rows := rowsOfBudgets(read.rows, budgets)
	return budget.Read(ctx, store, budgets, cal.Calendar, now, budget.MonthRows{Months: read.months, Rows: rows})
}

// rowsOfBudgets returns the rows of the organizations that budgets watch,
// whole or by connection: the only rows whose cost a budget adds up. A
// scrape holds the rows of every organization, and a budget of one of them
// should not cost a sum over all the others.
func rowsOfBudgets(rows []ledger.Row, budgets *BudgetsConfig) []ledger.Row {
	orgs := make(map[string]bool)
	for _, b := range budgets.Organizations {
		orgs[b.Org] = true
	}
	for _, b := range budgets.Connections {
		orgs[b.Org] = true
	}
	var out []ledger.Row
	watched := false
	for i := range rows {
		// The rows of an organization are mostly next to each other: one
		// lookup for each run of them.
		if i == 0 || rows[i].Org != rows[i-1].Org {
			watched = orgs[rows[i].Org]
		}
		if watched {
			out = append(out, rows[i])
		}
	}
	return out
}

// writeBudgetStates writes the budget gauges of states, the families in
// order; nothing when there is no budget.
func writeBudgetStates(sw *sampleWriter, states []budgetState) {
	if len(states) == 0 {
		return
	}
	labels := make([]string, len(states))
	for i := range states {
		labels[i] = budgetLabels(&states[i])
	}
	for _, f := range budgetFamilies {
		sw.metadata(f.name, f.help, "gauge")
		for i := range states {
			sw.float(f.name, labels[i], f.value(&states[i]))
		}
	}
}

// budgetLabels are the labels of a budget's series: org, connection for a
// connection's budget, and month.
func budgetLabels(s *budgetState) string {
	labels := `org="` + labelValue(s.Org) + `"`
	if s.Connection != "" {
		labels += `,connection="` + labelValue(s.Connection) + `"`
	}
	return labels + `,month="` + labelValue(s.Month) + `"`
}
