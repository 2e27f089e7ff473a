package budget

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// load decodes raw as a component's budgets key and validates it.
func load(t *testing.T, raw map[string]any) (*Config, error) {
	t.Helper()
	var cfg Config
	if err := confmap.NewFromStringMap(raw).Unmarshal(&cfg); err != nil {
		return nil, err
	}
	return &cfg, cfg.Check()
}

func TestConfig(t *testing.T) {
	got, err := load(t, map[string]any{
		"organizations": []any{
			map[string]any{"org": "acme", "monthly_usd": 500},
			map[string]any{"org": "globex", "monthly_usd": "1250.50"},
		},
		"connections": []any{
			map[string]any{"org": "acme", "connection": "support-bot/openai", "monthly_usd": 99.95},
			map[string]any{"org": "acme", "connection": "search", "monthly_usd": 0.1},
			map[string]any{"org": "initech", "connection": "bot", "monthly_usd": int64(7)},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []Organization{
		{Org: "acme", MonthlyUSD: "500"},
		{Org: "globex", MonthlyUSD: "1250.50"},
	}, got.Organizations)
	// YAML floats come back as the decimals written: 99.95 and 0.1, not
	// 99.9500000000000028 and 0.1000000000000000055.
	assert.Equal(t, []Connection{
		{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "99.95"},
		{Org: "acme", Connection: "search", MonthlyUSD: "0.1"},
		{Org: "initech", Connection: "bot", MonthlyUSD: "7"},
	}, got.Connections)
	assert.False(t, got.Empty())
	assert.Equal(t, []string{"acme", "globex", "initech"}, got.orgs(), "each organization once")

	none, err := load(t, map[string]any{})
	require.NoError(t, err)
	assert.True(t, none.Empty())
	assert.Empty(t, none.orgs())
}

// A YAML number of more than 15 significant digits may not be the decimal
// written: 1234567.123456789012 reads as 1234567.123456789. It must be
// quoted; 15 digits, and a quoted amount of any length, are read exactly.
func TestLongYAMLNumbersMustBeQuoted(t *testing.T) {
	_, err := load(t, map[string]any{"organizations": []any{
		map[string]any{"org": "acme", "monthly_usd": 1234567.123456789012},
	}})
	require.ErrorContains(t, err, `budgets::organizations[0]::monthly_usd: 1234567.123456789 has 16 significant `+
		`digits, more than a YAML number keeps exactly; expecting the amount as written, quoted, such as "99.95"`)

	got, err := load(t, map[string]any{"organizations": []any{
		map[string]any{"org": "acme", "monthly_usd": 1234567.12345678},
		map[string]any{"org": "globex", "monthly_usd": "1234567.123456789012"},
	}})
	require.NoError(t, err)
	assert.Equal(t, []Organization{
		{Org: "acme", MonthlyUSD: "1234567.12345678"},
		{Org: "globex", MonthlyUSD: "1234567.123456789012"},
	}, got.Organizations)
}

func TestConfigErrors(t *testing.T) {
	f := func(raw map[string]any, wantErrs ...string) {
		t.Helper()
		_, err := load(t, raw)
		require.Error(t, err)
		for _, want := range wantErrs {
			assert.Contains(t, err.Error(), want)
		}
	}
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme", "monthly_usd": 0}}},
		`budgets::organizations[0]::monthly_usd: "0" is zero; expecting a positive number of dollars`)
	f(map[string]any{"organizations": []any{map[string]any{"org": "acme", "monthly_usd": -20}}},
		`budgets::organizations[0]::monthly_usd: "-20" is negative`)
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
