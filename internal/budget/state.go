package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
)

// State is where one budget stands in its organization's current month.
type State struct {
	// Org and Connection name what the budget watches; Connection is empty
	// for an organization's budget.
	Org, Connection string
	// Month is the organization's current month, "YYYY-MM", in its zone.
	Month string
	// Budget is the monthly budget and Spend the month's cost so far.
	Budget, Spend ledger.Amount
	// ForecastUSD is the month-end spend at the month-to-date run rate, as
	// [ForecastUSD] computes it.
	ForecastUSD float64
}

// UsedRatio is the share of the budget spent so far; 1 is the whole budget.
func (s *State) UsedRatio() float64 {
	return s.Spend.USD() / s.Budget.USD()
}

// MonthRows are the rows of some months already read from the ledger.
type MonthRows struct {
	Months []string
	Rows   []ledger.Row
}

// Read returns every budget of cfg in its organization's current month, in
// its time zone: organizations' budgets first, then connections', each
// group sorted by name. It takes the current months' rows from read when it
// holds them all and reads them from store otherwise, so near a month's end,
// when zones disagree on the month, two months may be read. It reads
// nothing when no budget is configured. cfg must have passed
// [Config.Validate].
func Read(
	ctx context.Context,
	store ledger.Store,
	cfg *Config,
	cal calendar.Calendar,
	now time.Time,
	read MonthRows,
) ([]State, error) {
	if cfg.Empty() {
		return nil, nil
	}
	var months []string
	for _, org := range cfg.orgs() {
		if m := cal.Month(org, now); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	rows := read.Rows
	if !containsAll(read.Months, months) {
		var err error
		if rows, err = store.Rows(ctx, months); err != nil {
			return nil, err
		}
	}
	states := spendOf(cfg, rows, cal, now)
	for i := range states {
		start, end := cal.MonthBounds(states[i].Org, now)
		states[i].ForecastUSD = ForecastUSD(states[i].Spend.USD(), start, end, now)
	}
	return states, nil
}

// spendOf adds the cost of the rows of each organization's current month to
// the budgets that watch them; rows of other months are skipped.
func spendOf(cfg *Config, rows []ledger.Row, cal calendar.Calendar, now time.Time) []State {
	current := make(map[string]string)
	currentMonth := func(org string) string {
		m, ok := current[org]
		if !ok {
			m = cal.Month(org, now)
			current[org] = m
		}
		return m
	}
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

	orgs := make([]State, 0, len(cfg.Organizations))
	for _, b := range cfg.Organizations {
		amount, _ := ParseUSD(b.MonthlyUSD)
		orgs = append(orgs, State{Org: b.Org, Month: currentMonth(b.Org), Budget: amount, Spend: byOrg[b.Org]})
	}
	conns := make([]State, 0, len(cfg.Connections))
	for _, b := range cfg.Connections {
		amount, _ := ParseUSD(b.MonthlyUSD)
		conns = append(conns, State{Org: b.Org, Connection: b.Connection, Month: currentMonth(b.Org),
			Budget: amount, Spend: byConn[ledger.ConnectionID{Org: b.Org, Connection: b.Connection}]})
	}
	byName := func(a, b State) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection))
	}
	slices.SortFunc(orgs, byName)
	slices.SortFunc(conns, byName)
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
