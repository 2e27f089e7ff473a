package usageledgerexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// loadBudgets decodes raw under the exporter's key budgets and validates the
// whole configuration, as the collector does.
func loadBudgets(t *testing.T, raw map[string]any) (*BudgetsConfig, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if err := confmap.NewFromStringMap(map[string]any{"budgets": raw}).Unmarshal(cfg); err != nil {
		return nil, err
	}
	return &cfg.Budgets, confmap.Validate(cfg)
}

// TestBudgetsConfig checks that the exporter reads budgets as the budget
// package defines them: numbers as the decimals written, and every budget
// validated with the configuration. The rules themselves are tested in
// internal/budget.
func TestBudgetsConfig(t *testing.T) {
	got, err := loadBudgets(t, map[string]any{
		"organizations": []any{
			map[string]any{"org": "acme", "monthly_usd": 500},
			map[string]any{"org": "globex", "monthly_usd": "1250.50"},
		},
		"connections": []any{
			map[string]any{"org": "acme", "connection": "support-bot/openai", "monthly_usd": 99.95},
			map[string]any{"org": "acme", "connection": "search", "monthly_usd": 0.1},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []OrganizationBudget{
		{Org: "acme", MonthlyUSD: "500"},
		{Org: "globex", MonthlyUSD: "1250.50"},
	}, got.Organizations)
	// YAML floats come back as the decimals written: 99.95 and 0.1, not
	// 99.9500000000000028 and 0.1000000000000000055.
	assert.Equal(t, []ConnectionBudget{
		{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "99.95"},
		{Org: "acme", Connection: "search", MonthlyUSD: "0.1"},
	}, got.Connections)
	assert.False(t, got.Empty())

	none, err := loadBudgets(t, map[string]any{})
	require.NoError(t, err)
	assert.True(t, none.Empty())

	_, err = loadBudgets(t, map[string]any{
		"organizations": []any{map[string]any{"org": "acme", "monthly_usd": 0}},
	})
	require.Error(t, err)
	assert.Equal(t,
		`budgets::organizations[0]::monthly_usd: "0" is zero; expecting a positive number of dollars`, err.Error(),
		"the key is named once, from the exporter's configuration down")
}

// TestStartWarnsOfBudgetsTheLedgerHasNoCallsOf starts the exporter on a
// ledger that has counted calls of two connections of acme, with budgets
// on one of them, on a misspelling of the other and on an organization it
// has never seen, and expects one warning for each of the last two.
func TestStartWarnsOfBudgetsTheLedgerHasNoCallsOf(t *testing.T) {
	cfg := testConfig(t)
	seedConnections(t, cfg.Path, "support-bot/openai", "billing-agent/anthropic")
	cfg.Budgets = BudgetsConfig{
		Organizations: []OrganizationBudget{{Org: "initech", MonthlyUSD: "100"}},
		Connections: []ConnectionBudget{
			{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "50"},
			{Org: "acme", Connection: "biling-agent/anthropic", MonthlyUSD: "50"},
		},
	}
	_, logs := startAndStop(t, cfg, zap.WarnLevel)

	orgs := logs.FilterMessageSnippet("Budget names an organization of which the ledger has counted no call").All()
	require.Len(t, orgs, 1)
	assert.Equal(t, map[string]any{"budget": "budgets::organizations[0]", "org": "initech"}, orgs[0].ContextMap())
	conns := logs.FilterMessageSnippet("Budget names a connection of which the ledger has counted no call").All()
	require.Len(t, conns, 1)
	assert.Equal(t, map[string]any{
		"budget": "budgets::connections[1]", "org": "acme", "connection": "biling-agent/anthropic",
		"closest_recorded_connection": "billing-agent/anthropic",
	}, conns[0].ContextMap())
	assert.Equal(t, 2, logs.Len(), "the budget of a recorded connection is not warned of")
}

// seedConnections records one call of each connection of acme in the ledger
// at path.
func seedConnections(t *testing.T, path string, connections ...string) {
	t.Helper()
	store, err := ledger.Open(path)
	require.NoError(t, err)
	b := ledger.NewBatch()
	for _, c := range connections {
		id := ledger.ConnectionID{Org: "acme", Connection: c}
		b.Add(ledger.Key{Org: id.Org, Connection: id.Connection, Month: "2026-11", Model: "gpt-4o"}, ledger.Counters{Requests: 1})
		b.SetConnection(id, ledger.CallInfo("", "", 1))
	}
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)
	require.NoError(t, store.Close())
}
