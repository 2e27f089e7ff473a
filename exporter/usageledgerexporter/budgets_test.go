package usageledgerexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
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
