package usageledgerreceiver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

// usd returns whole dollars as an amount.
func usd(dollars uint64) ledger.Amount { return ledger.PicoUSD(dollars * 1_000_000_000_000) }

// TestReadEmitsBudgets reads a ledger with the budgets of the exporter's
// documentation and expects, for the current month only, the same figures
// the exporter serves at /metrics, as gauges stamped at the read.
func TestReadEmitsBudgets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	row := func(conn, month, model string, cost ledger.Amount) ledger.Row {
		return ledger.Row{Key: ledger.Key{Org: "acme", Connection: conn, Month: month, Model: model},
			Counters: ledger.Counters{Requests: 1, Cost: cost}}
	}
	commitRows(t, path, []ledger.Row{
		row("support-bot/openai", "2026-12", "gpt-4o", usd(30)),
		row("support-bot/openai", "2026-12", "gpt-4o-mini", usd(5)),
		row("search", "2026-12", "claude-sonnet-4", usd(15)),
		// November is emitted, but it is not the budgets' month.
		row("support-bot/openai", "2026-11", "gpt-4o", usd(1000)),
	}, nil)

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	cfg.Budgets = budget.Config{
		Organizations: []budget.Organization{{Org: "acme", MonthlyUSD: "500"}},
		Connections: []budget.Connection{
			{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "100"},
			{Org: "initech", Connection: "idle", MonthlyUSD: "20"},
		},
	}
	require.NoError(t, cfg.Validate())
	r, err := newLedgerReader(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, r.start(context.Background(), nil))
	defer func() { require.NoError(t, r.shutdown(context.Background())) }()
	// On December 16th at noon 15.5 of 31 days have passed: the forecast is
	// twice the spend.
	now := time.Date(2026, time.December, 16, 12, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }

	md, err := r.read(context.Background())
	require.NoError(t, err)
	got, shapes := pointsOf(t, md)
	assert.Equal(t, []string{
		"genai.budget.usd {USD} gauge",
		"genai.budget.spend_usd {USD} gauge",
		"genai.budget.used_ratio 1 gauge",
		"genai.budget.forecast_usd {USD} gauge",
	}, shapes[len(shapes)-4:])

	acme := map[string]any{"org": "acme", "month": "2026-12"}
	bot := map[string]any{"org": "acme", "connection": "support-bot/openai", "month": "2026-12"}
	idle := map[string]any{"org": "initech", "connection": "idle", "month": "2026-12"}
	points := func(orgValue, botValue, idleValue float64) []point {
		return []point{
			{attrs: acme, at: now, floatValue: orgValue},
			{attrs: bot, at: now, floatValue: botValue},
			{attrs: idle, at: now, floatValue: idleValue},
		}
	}
	// acme spent 30 + 5 + 15 = 50 of 500 in December, support-bot 35 of 100,
	// initech's idle connection nothing of 20.
	assert.Equal(t, points(500, 100, 20), got["genai.budget.usd"])
	assert.Equal(t, points(50, 35, 0), got["genai.budget.spend_usd"])
	assert.Equal(t, points(0.1, 0.35, 0), got["genai.budget.used_ratio"])
	assert.Equal(t, points(100, 70, 0), got["genai.budget.forecast_usd"])
}
