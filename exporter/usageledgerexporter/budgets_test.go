package usageledgerexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/usageledger/usageledger/internal/ledger"
)

func TestParseUSD(t *testing.T) {
	ok := func(text string, want ledger.Amount) {
		t.Helper()
		got, err := parseUSD(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	bad := func(text, wantErr string) {
		t.Helper()
		_, err := parseUSD(text)
		require.Error(t, err, text)
		assert.Equal(t, wantErr, err.Error())
	}
	ok("500", ledger.PicoUSD(500_000_000_000_000))
	ok("99.95", ledger.PicoUSD(99_950_000_000_000))
	ok(".5", ledger.PicoUSD(500_000_000_000))
	ok("0.000000000001", ledger.PicoUSD(1))
	// 10^9 dollars are 10^21 picodollars, beyond 64 bits: 10^21 = 54 × 2^64
	// + 3875820019684212736.
	ok("1000000000", ledger.Amount{Hi: 54, Lo: 3875820019684212736})

	bad("", "missing; expecting a positive number of dollars such as 500 or 99.95")
	bad("0", `"0" is zero; expecting a positive number of dollars`)
	bad("0.000", `"0.000" is zero; expecting a positive number of dollars`)
	bad("-5", `"-5" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("1e3", `"1e3" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("1.2.3", `"1.2.3" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("$5", `"$5" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad(".", `"." has no digits; expecting a positive number of dollars such as 500 or 99.95`)
	bad("0.0000000000001", `"0.0000000000001" has more than 12 decimals; expecting a whole number of picodollars`)
	// At most 10^15 dollars, a quadrillion.
	// 10^15 dollars are 10^27 picodollars = 54210108 × 2^64 + 11515845246265065472
	// (python3: divmod(10**27, 2**64)).
	ok("1000000000000000", ledger.Amount{Hi: 54210108, Lo: 11515845246265065472})
	bad("1000000000000001", `"1000000000000001" is too large; expecting at most 1000000000000000 dollars`)
}

// loadBudgets decodes raw as the exporter's configuration does and validates it.
func loadBudgets(t *testing.T, raw map[string]any) (*BudgetsConfig, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if err := confmap.NewFromStringMap(map[string]any{"budgets": raw}).Unmarshal(cfg); err != nil {
		return nil, err
	}
	return &cfg.Budgets, cfg.Budgets.Validate()
}

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
}

func TestBudgetsConfigErrors(t *testing.T) {
	f := func(raw map[string]any, wantErrs ...string) {
		t.Helper()
		_, err := loadBudgets(t, raw)
		require.Error(t, err)
		for _, want := range wantErrs {
			assert.Contains(t, err.Error(), want)
		}
	}
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme", "monthly_usd": 0}}},
		`budgets::organizations[0]::monthly_usd: "0" is zero; expecting a positive number of dollars`)
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme", "monthly_usd": -20}}},
		`budgets::organizations[0]::monthly_usd: "-20" is not a plain decimal number`)
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme"}}},
		"budgets::organizations[0]::monthly_usd: missing; expecting a positive number of dollars")
	f(map[string]any{"organizations": []any{map[string]any{"monthly_usd": 5}}},
		"budgets::organizations[0]::org: must not be empty; expecting an organization")
	f(map[string]any{"organizations": []any{
		map[string]any{"org": "acme", "monthly_usd": 5},
		map[string]any{"org": "acme", "monthly_usd": 6},
	}}, `budgets::organizations[1]::org: "acme" has a budget already at budgets::organizations[0]`)
	f(map[string]any{"connections": []any{map[string]any{"org": "acme", "monthly_usd": 5}}},
		"budgets::connections[0]::connection: must not be empty; expecting a connection")
	f(map[string]any{"connections": []any{map[string]any{"connection": "bot", "monthly_usd": 5}}},
		"budgets::connections[0]::org: must not be empty; expecting an organization")
	f(map[string]any{"connections": []any{
		map[string]any{"org": "acme", "connection": "bot", "monthly_usd": 5},
		map[string]any{"org": "acme", "connection": "bot", "monthly_usd": 7},
	}}, `budgets::connections[1]: "bot" of "acme" has a budget already at budgets::connections[0]`)
	// Two errors at once, both named.
	f(map[string]any{"connections": []any{
		map[string]any{"org": "acme", "connection": "a", "monthly_usd": "12.0000000000001"},
		map[string]any{"org": "acme", "connection": "b", "monthly_usd": "ten"},
	}}, "budgets::connections[0]::monthly_usd:", "budgets::connections[1]::monthly_usd:")
	// A misspelled key is refused by name.
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme", "monthly": 5}}}, "monthly")
	f(map[string]any{"orgs": []any{}}, "orgs")
}
