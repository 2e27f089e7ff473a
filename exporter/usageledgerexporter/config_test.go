package usageledgerexporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.yaml.in/yaml/v3"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	allSettings := createDefaultConfig().(*Config)
	allSettings.Path = "/var/lib/otelcol/usage-ledger.db"
	allSettings.Metrics.NetAddr.Endpoint = "0.0.0.0:9999"
	allSettings.Months = 3
	allSettings.PinnedMonths = []string{"2026-10", "2026-11"}
	allSettings.TimeoutConfig.Timeout = 10 * time.Second
	allSettings.RetryConfig = configretry.BackOffConfig{
		Enabled:             true,
		InitialInterval:     time.Second,
		RandomizationFactor: configretry.NewDefaultBackOffConfig().RandomizationFactor,
		Multiplier:          configretry.NewDefaultBackOffConfig().Multiplier,
		MaxInterval:         10 * time.Second,
		MaxElapsedTime:      time.Minute,
	}

	tests := []struct {
		id      string
		want    *Config
		wantErr string
	}{
		{id: "", want: createDefaultConfig().(*Config)},
		{id: "all_settings", want: allSettings},
		{id: "bad_pinned_month", wantErr: `pinned_months[1]: "2026-13" is not a month; expecting YYYY-MM`},
		{id: "duplicate_pinned_month", wantErr: `pinned_months[2]: "2026-11" is listed already at pinned_months[0]; expecting each month once`},
		{id: "zero_months", wantErr: "months: 0 is out of range; expecting 1 to 120"},
		{id: "too_many_months", wantErr: "months: 121 is out of range; expecting 1 to 120"},
		{id: "empty_path", wantErr: "path: must not be empty"},
		{id: "empty_endpoint", wantErr: "metrics::endpoint: must not be empty"},
		{id: "sending_queue", wantErr: "sending_queue: not supported"},
		{id: "misspelled_key", wantErr: "invalid keys: month"},
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
				require.ErrorContains(t, err, tt.wantErr)
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
	assert.Equal(t, "localhost:9464", cfg.Metrics.NetAddr.Endpoint)
	assert.Equal(t, 2, cfg.Months)
	assert.Empty(t, cfg.PinnedMonths)
	assert.Equal(t, 5*time.Second, cfg.TimeoutConfig.Timeout)
	assert.True(t, cfg.RetryConfig.Enabled)
	require.NoError(t, confmap.Validate(cfg))
}

// TestREADMEConfig checks that the exporter settings of every YAML example in
// the README load and validate.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)

	blocks := strings.Split(string(readme), "```yaml\n")[1:]
	require.Len(t, blocks, 2)
	for i, block := range blocks {
		text, _, _ := strings.Cut(block, "```")
		var raw map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(text), &raw), "example %d", i)

		sub, err := confmap.NewFromStringMap(raw).Sub("exporters::usageledger")
		require.NoError(t, err)
		cfg := createDefaultConfig()
		require.NoError(t, sub.Unmarshal(cfg), "example %d", i)
		require.NoError(t, confmap.Validate(cfg), "example %d", i)
	}
}
