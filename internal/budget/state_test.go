package budget

import (
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

// usd returns whole dollars as an amount.
func usd(dollars uint64) ledger.Amount {
	return ledger.PicoUSD(dollars * 1_000_000_000_000)
}

// row is one ledger row of a connection's model in a month, with its cost.
func row(org, conn, month, model string, cost ledger.Amount) ledger.Row {
	return ledger.Row{Key: ledger.Key{Org: org, Connection: conn, Month: month, Model: model},
		Counters: ledger.Counters{Requests: 1, Cost: cost}}
}

// openWith returns a ledger holding rows, closed when the test ends.
func openWith(t *testing.T, rows ...ledger.Row) ledger.Store {
	t.Helper()
	store, err := ledger.Open(filepath.Join(t.TempDir(), "usage-ledger.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	b := ledger.NewBatch()
	for _, r := range rows {
		b.Add(r.Key, r.Counters)
	}
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)
	return store
}

var errUnreadable = errors.New("disk unreadable")

// failingStore is a ledger whose reads fail, as a corrupted file does.
type failingStore struct{ ledger.Store }

func (failingStore) Rows(context.Context, []string) ([]ledger.Row, error) { return nil, errUnreadable }

var december = []ledger.Row{
	row("acme", "support-bot", "2026-12", "gpt-4o", usd(30)),
	row("acme", "support-bot", "2026-12", "gpt-4o-mini", usd(5)),
	row("acme", "search", "2026-12", "claude-sonnet-4", usd(15)),
	row("globex", "support-bot", "2026-12", "gpt-4o", usd(2)),
	// Last month's spend is not this month's.
	row("acme", "support-bot", "2026-11", "gpt-4o", usd(1000)),
}

var budgets = &Config{
	Organizations: []Organization{
		{Org: "initech", MonthlyUSD: "10"},
		{Org: "acme", MonthlyUSD: "500"},
	},
	Connections: []Connection{
		{Org: "acme", Connection: "support-bot", MonthlyUSD: "100"},
		{Org: "acme", Connection: "idle", MonthlyUSD: "20.5"},
	},
}

// On December 16th at noon 15.5 of 31 days have passed: the forecast is
// twice the spend. acme spent 30 + 5 + 15 = 50 of 500; its support-bot
// 30 + 5 = 35 of 100; initech and acme's idle connection nothing.
var (
	midDecember = time.Date(2026, time.December, 16, 12, 0, 0, 0, time.UTC)
	wantMid     = []State{
		{Org: "acme", Month: "2026-12", Budget: usd(500), Spend: usd(50), ForecastUSD: 100},
		{Org: "initech", Month: "2026-12", Budget: usd(10)},
		{Org: "acme", Connection: "idle", Month: "2026-12", Budget: ledger.PicoUSD(20_500_000_000_000)},
		{Org: "acme", Connection: "support-bot", Month: "2026-12", Budget: usd(100), Spend: usd(35),
			ForecastUSD: 70},
	}
)

func TestRead(t *testing.T) {
	require.NoError(t, budgets.Check())
	store := openWith(t, december...)

	got, err := Read(context.Background(), store, budgets, utcCalendar, midDecember, MonthRows{})
	require.NoError(t, err)
	assert.Equal(t, wantMid, got)
	// 50 / 500 and 35 / 100.
	assert.Equal(t, []float64{0.1, 0, 0, 0.35},
		[]float64{got[0].UsedRatio(), got[1].UsedRatio(), got[2].UsedRatio(), got[3].UsedRatio()})
}

// TestReadTakesTheRowsRead checks that rows already read for the current
// month are used as they are, without reading the ledger again, and that
// rows of other months are read when the current one is missing.
func TestReadTakesTheRowsRead(t *testing.T) {
	got, err := Read(context.Background(), failingStore{}, budgets, utcCalendar, midDecember,
		MonthRows{Months: []string{"2026-12", "2026-11"}, Rows: december})
	require.NoError(t, err)
	assert.Equal(t, wantMid, got)

	_, err = Read(context.Background(), failingStore{}, budgets, utcCalendar, midDecember,
		MonthRows{Months: []string{"2026-11"}, Rows: december})
	require.ErrorIs(t, err, errUnreadable, "December was not read: the ledger is")
}

func TestReadWithoutBudgetsReadsNothing(t *testing.T) {
	got, err := Read(context.Background(), failingStore{}, &Config{}, utcCalendar, midDecember, MonthRows{})
	require.NoError(t, err)
	assert.Empty(t, got)
}

// TestReadInOrganizationZones checks that each organization's spend is that
// of its own current month when the zones disagree on the month.
func TestReadInOrganizationZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cal := calendar.Of(time.UTC, map[string]*time.Location{"globex": berlin})
	store := openWith(t,
		row("acme", "bot", "2026-11", "gpt-4o", usd(30)),
		row("acme", "bot", "2026-12", "gpt-4o", usd(1)),
		row("globex", "bot", "2026-11", "gpt-4o", usd(400)),
		row("globex", "bot", "2026-12", "gpt-4o", usd(3)),
	)

	// 2026-11-30 23:30 UTC is December 1st 00:30 in Berlin.
	now := time.Date(2026, time.November, 30, 23, 30, 0, 0, time.UTC)
	cfg := &Config{Organizations: []Organization{
		{Org: "acme", MonthlyUSD: "100"},
		{Org: "globex", MonthlyUSD: "100"},
	}}
	got, err := Read(context.Background(), store, cfg, cal, now, MonthRows{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "2026-11", got[0].Month)
	assert.Equal(t, usd(30), got[0].Spend)
	assert.Equal(t, "2026-12", got[1].Month)
	assert.Equal(t, usd(3), got[1].Spend)
	// acme's November is over but for half an hour: 30 × 720 / 719.5.
	assert.InDelta(t, 30*720/719.5, got[0].ForecastUSD, 1e-9)
	// globex's December is half an hour old: the elapsed time counts as one
	// day, 3 × 31 = 93.
	assert.InDelta(t, 93, got[1].ForecastUSD, 1e-9)
}
