package usageledgerexporter

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
)

// utcCalendar books every organization in UTC.
var utcCalendar = ledgerCalendar{Calendar: calendar.Of(time.UTC, nil)}

// usd returns whole dollars as an amount.
func usd(dollars uint64) ledger.Amount {
	return ledger.PicoUSD(dollars * 1_000_000_000_000)
}

func TestWriteBudgets(t *testing.T) {
	store, err := ledger.Open(filepath.Join(t.TempDir(), "usage-ledger.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()

	b := ledger.NewBatch()
	add := func(org, conn, month, model string, cost ledger.Amount) {
		b.Add(ledger.Key{Org: org, Connection: conn, Month: month, Model: model},
			ledger.Counters{Requests: 1, Cost: cost})
	}
	add("acme", "support-bot", "2026-12", "gpt-4o", usd(30))
	add("acme", "support-bot", "2026-12", "gpt-4o-mini", usd(5))
	add("acme", "search", "2026-12", "claude-sonnet-4", usd(15))
	add("globex", "support-bot", "2026-12", "gpt-4o", usd(2))
	// Last month's spend is not this month's.
	add("acme", "support-bot", "2026-11", "gpt-4o", usd(1000))
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)

	budgets := &BudgetsConfig{
		Organizations: []OrganizationBudget{
			{Org: "initech", MonthlyUSD: "10"},
			{Org: "acme", MonthlyUSD: "500"},
		},
		Connections: []ConnectionBudget{
			{Org: "acme", Connection: "support-bot", MonthlyUSD: "100"},
			{Org: "acme", Connection: "idle", MonthlyUSD: "20"},
		},
	}
	require.NoError(t, budgets.Check())

	// On December 16th at noon 15.5 of 31 days have passed: the forecast is
	// twice the spend. acme spent 30 + 5 + 15 = 50 of 500 (0.1); its
	// support-bot 35 of 100 (0.35).
	now := time.Date(2026, time.December, 16, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	require.NoError(t, writeBudgets(context.Background(), &buf, store, budgets, utcCalendar, now))
	assert.Equal(t, `# HELP genai_budget_usd Monthly budget in USD, as configured.
# TYPE genai_budget_usd gauge
genai_budget_usd{org="acme",month="2026-12"} 500
genai_budget_usd{org="initech",month="2026-12"} 10
genai_budget_usd{org="acme",connection="idle",month="2026-12"} 20
genai_budget_usd{org="acme",connection="support-bot",month="2026-12"} 100
# HELP genai_budget_spend_usd Spend in USD of the current month so far.
# TYPE genai_budget_spend_usd gauge
genai_budget_spend_usd{org="acme",month="2026-12"} 50
genai_budget_spend_usd{org="initech",month="2026-12"} 0
genai_budget_spend_usd{org="acme",connection="idle",month="2026-12"} 0
genai_budget_spend_usd{org="acme",connection="support-bot",month="2026-12"} 35
# HELP genai_budget_used_ratio Share of the monthly budget spent so far; 1 is the whole budget.
# TYPE genai_budget_used_ratio gauge
genai_budget_used_ratio{org="acme",month="2026-12"} 0.1
genai_budget_used_ratio{org="initech",month="2026-12"} 0
genai_budget_used_ratio{org="acme",connection="idle",month="2026-12"} 0
genai_budget_used_ratio{org="acme",connection="support-bot",month="2026-12"} 0.35
# HELP genai_budget_forecast_usd Spend in USD at the end of the month at the month-to-date run rate: spend × month length / max(time elapsed, 1 day).
# TYPE genai_budget_forecast_usd gauge
genai_budget_forecast_usd{org="acme",month="2026-12"} 100
genai_budget_forecast_usd{org="initech",month="2026-12"} 0
genai_budget_forecast_usd{org="acme",connection="idle",month="2026-12"} 0
genai_budget_forecast_usd{org="acme",connection="support-bot",month="2026-12"} 70
`, buf.String())
}

func TestWriteBudgetsEscapesLabels(t *testing.T) {
	store, err := ledger.Open(filepath.Join(t.TempDir(), "usage-ledger.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()

	budgets := &BudgetsConfig{Organizations: []OrganizationBudget{{Org: `a"c\me`, MonthlyUSD: "1"}}}
	var buf bytes.Buffer
	now := time.Date(2026, time.December, 16, 12, 0, 0, 0, time.UTC)
	require.NoError(t, writeBudgets(context.Background(), &buf, store, budgets, utcCalendar, now))
	assert.Contains(t, buf.String(), `genai_budget_usd{org="a\"c\\me",month="2026-12"} 1`+"\n")
}

func TestWriteBudgetsWithoutBudgetsReadsNothing(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeBudgets(context.Background(), &buf, failingStore{}, &BudgetsConfig{},
		utcCalendar, time.Now()))
	assert.Empty(t, buf.String())

	err := writeBudgets(context.Background(), &buf, failingStore{},
		&BudgetsConfig{Organizations: []OrganizationBudget{{Org: "acme", MonthlyUSD: "1"}}},
		utcCalendar, time.Now())
	require.ErrorIs(t, err, errUnreadable)
}

var errUnreadable = errors.New("disk unreadable")

// failingStore is a ledger whose reads fail, as a corrupted file does.
type failingStore struct{ ledger.Store }

func (failingStore) Rows(context.Context, []string) ([]ledger.Row, error) { return nil, errUnreadable }

// TestWriteBudgetsInOrganizationZones checks that each organization's spend
// is that of its own current month when the zones disagree on the month.
func TestWriteBudgetsInOrganizationZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cal := ledgerCalendar{Calendar: calendar.Of(time.UTC, map[string]*time.Location{"globex": berlin})}

	store, err := ledger.Open(filepath.Join(t.TempDir(), "usage-ledger.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()
	b := ledger.NewBatch()
	for _, r := range []struct {
		org, month string
		cost       ledger.Amount
	}{
		{"acme", "2026-11", usd(30)},
		{"acme", "2026-12", usd(1)},
		{"globex", "2026-11", usd(400)},
		{"globex", "2026-12", usd(3)},
	} {
		b.Add(ledger.Key{Org: r.org, Connection: "bot", Month: r.month, Model: "gpt-4o"},
			ledger.Counters{Requests: 1, Cost: r.cost})
	}
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)

	// 2026-11-30 23:30 UTC is December 1st 00:30 in Berlin.
	now := time.Date(2026, time.November, 30, 23, 30, 0, 0, time.UTC)
	budgets := &BudgetsConfig{Organizations: []OrganizationBudget{
		{Org: "acme", MonthlyUSD: "100"},
		{Org: "globex", MonthlyUSD: "100"},
	}}
	var buf bytes.Buffer
	require.NoError(t, writeBudgets(context.Background(), &buf, store, budgets, cal, now))
	assert.Contains(t, buf.String(), `genai_budget_spend_usd{org="acme",month="2026-11"} 30`+"\n")
	assert.Contains(t, buf.String(), `genai_budget_spend_usd{org="globex",month="2026-12"} 3`+"\n")
	// globex's December is half an hour old: the elapsed time counts as one
	// day, 3 × 31 = 93. acme's November is over but for half an hour:
	// 30 × 720 / 719.5 = 30.0208...
	assert.Contains(t, buf.String(), `genai_budget_forecast_usd{org="globex",month="2026-12"} 93`+"\n")
	assert.Contains(t, buf.String(), `genai_budget_forecast_usd{org="acme",month="2026-11"} 30.02`)
}
