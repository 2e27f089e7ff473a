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
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
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
	allSettings.DefaultTimeZone = "Europe/Berlin"
	allSettings.Organizations = map[string]OrganizationConfig{
		"acme":   {TimeZone: "Asia/Shanghai"},
		"globex": {},
	}
	allSettings.FutureSkew = time.Minute
	allSettings.Dedup = DedupConfig{Window: 48 * time.Hour, MaxEntries: 1000}
	allSettings.Limits = LimitsConfig{Organizations: 10, ConnectionsPerOrganization: 20, ModelsPerConnection: 30}
	allSettings.Backup = true
	allSettings.TimeoutConfig.Timeout = 10 * time.Second
	allSettings.RetryConfig = configretry.BackOffConfig{
		Enabled:             true,
		InitialInterval:     time.Second,
		RandomizationFactor: configretry.NewDefaultBackOffConfig().RandomizationFactor,
		Multiplier:          configretry.NewDefaultBackOffConfig().Multiplier,
		MaxInterval:         10 * time.Second,
		MaxElapsedTime:      time.Minute,
	}

	storage := component.MustNewID("file_storage")
	persistentQueue := createDefaultConfig().(*Config)
	persistentQueue.QueueConfig.GetOrInsertDefault().StorageID = &storage
	persistentQueue.QueueConfig.Get().NumConsumers = 4
	waitingQueue := createDefaultConfig().(*Config)
	waitingQueue.QueueConfig.GetOrInsertDefault().WaitForResult = true
	noQueue := createDefaultConfig().(*Config)
	noQueue.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	dedupOff := createDefaultConfig().(*Config)
	dedupOff.Dedup.Window = 0

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
		{id: "memory_queue", wantErr: "sending_queue: an in-memory queue answers before the ledger commits; " +
			"expecting sending_queue::storage naming a storage extension such as file_storage, " +
			"or sending_queue::wait_for_result: true"},
		{id: "persistent_queue", want: persistentQueue},
		{id: "waiting_queue", want: waitingQueue},
		{id: "no_queue", want: noQueue},
		{id: "bad_time_zone", wantErr: `default_time_zone: unknown time zone "Mars/Olympus_Mons"; ` +
			"expecting an IANA name such as UTC or Europe/Berlin"},
		{id: "local_time_zone", wantErr: `default_time_zone: "Local" is not a time zone`},
		{id: "bad_org_time_zone", wantErr: `organizations::acme::time_zone: unknown time zone "CEST"`},
		{id: "negative_skew", wantErr: "future_skew: -1m0s is negative; expecting a duration such as 5m"},
		{id: "negative_dedup", wantErr: "dedup::window: -1h0m0s is negative; expecting a duration such as 24h, " +
			"or 0 to turn dedup off\ndedup::max_entries: -5 is negative"},
		{id: "bare_durations", wantErr: "future_skew: 300 has no unit, and the collector reads a bare number as " +
			"nanoseconds; expecting a duration with its unit, such as 5m\n" +
			"timeout: 5 has no unit, and the collector reads a bare number as nanoseconds; " +
			"expecting a duration with its unit, such as 5s\n" +
			"dedup::window: 86400000 has no unit, and the collector reads a bare number as nanoseconds; " +
			"expecting a duration with its unit, such as 24h"},
		{id: "dedup_off", want: dedupOff},
		{id: "zero_limits", wantErr: "limits::organizations: 0 is out of range; expecting at least 1\n" +
			"limits::connections_per_organization: 0 is out of range; expecting at least 1\n" +
			"limits::models_per_connection: 0 is out of range; expecting at least 1"},
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
	assert.False(t, cfg.QueueConfig.HasValue(), "no sending queue unless configured")
	assert.Equal(t, "UTC", cfg.DefaultTimeZone)
	assert.Equal(t, 5*time.Minute, cfg.FutureSkew)
	assert.Equal(t, DedupConfig{Window: 24 * time.Hour, MaxEntries: 5_000_000}, cfg.Dedup)
	assert.Equal(t, LimitsConfig{Organizations: 1000, ConnectionsPerOrganization: 10_000, ModelsPerConnection: 100},
		cfg.Limits)
	assert.False(t, cfg.Backup, "the ledger is not served unless asked for")
	require.NoError(t, confmap.Validate(cfg))
}

// TestREADMEConfig checks that the exporter settings of every YAML example in
// the README load and validate.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)

	blocks := strings.Split(string(readme), "```yaml\n")[1:]
	require.Len(t, blocks, 4)
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
