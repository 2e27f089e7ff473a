package usageledgerreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	allSettings := createDefaultConfig().(*Config)
	allSettings.Path = "/var/lib/otelcol/usage-ledger.db"
	allSettings.CollectionInterval = 15 * time.Second
	allSettings.InitialDelay = 2 * time.Second
	allSettings.Timeout = 5 * time.Second
	allSettings.Months = 13
	allSettings.PinnedMonths = []string{"2026-10", "2026-11"}
	allSettings.DefaultTimeZone = "America/New_York"
	allSettings.Organizations = map[string]OrganizationConfig{"globex": {TimeZone: "Europe/Berlin"}}
	// 99.95 is read as the decimal written, not as the float64 nearest to it.
	allSettings.Budgets = budget.Config{
		Organizations: []budget.Organization{{Org: "acme", MonthlyUSD: "500"}},
		Connections:   []budget.Connection{{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "99.95"}},
	}

	tests := []struct {
		id      string
		want    *Config
		wantErr string
	}{
		{id: "", want: createDefaultConfig().(*Config)},
		{id: "all_settings", want: allSettings},
		{id: "empty_path", wantErr: "path: must not be empty; expecting the ledger file"},
		{id: "zero_interval", wantErr: "collection_interval: 0s is not positive; expecting a duration such as 30s"},
		{id: "negative_initial_delay", wantErr: "initial_delay: -1s is negative; expecting 0s or a positive duration such as 1s"},
		{id: "bare_durations", wantErr: "collection_interval: 30 has no unit, and the collector reads a bare number as " +
			"nanoseconds; expecting a duration with its unit, such as 30s\n" +
			"initial_delay: 1 has no unit, and the collector reads a bare number as nanoseconds; " +
			"expecting a duration with its unit, such as 1s\n" +
			"timeout: 5 has no unit, and the collector reads a bare number as nanoseconds; " +
			"expecting a duration with its unit, such as 10s"},
		{id: "zero_months", wantErr: "months: 0 is out of range; expecting 1 to 120"},
		{id: "too_many_months", wantErr: "months: 121 is out of range; expecting 1 to 120"},
		{id: "bad_pinned_month", wantErr: `pinned_months[1]: "2026-13" is not a month; expecting YYYY-MM`},
		{id: "duplicate_pinned_month",
			wantErr: `pinned_months[2]: "2026-11" is listed already at pinned_months[0]; expecting each month once`},
		{id: "misspelled_key", wantErr: "invalid keys: month"},
		{id: "bad_default_zone",
			wantErr: `default_time_zone: unknown time zone "Mars/Olympus"; expecting an IANA name such as UTC or Europe/Berlin`},
		{id: "local_zone",
			wantErr: `organizations::acme::time_zone: "Local" is not a time zone; expecting an IANA name such as UTC`},
		{id: "zero_budget",
			wantErr: `budgets::organizations[0]::monthly_usd: "0" is zero; expecting a positive number of dollars`},
		{id: "duplicate_connection_budget",
			wantErr: `budgets::connections[1]: "bot" of "acme" has a budget already at budgets::connections[0]`},
	}
	for _, tt := range tests {
		t.Run("id="+tt.id, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.id).String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "data/usage-ledger.db", cfg.Path)
	assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 2, cfg.Months)
	assert.Empty(t, cfg.PinnedMonths)
	assert.Equal(t, "UTC", cfg.DefaultTimeZone)
	assert.True(t, cfg.Budgets.Empty())
	require.NoError(t, cfg.Validate())
}
