package usageledgerreceiver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

// TestLifecycle is the collector's lifecycle check on a ledger the exporter
// would have created: a receiver started and shut down, then a second one
// on the same file, as after a reload.
func TestLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	commitRows(t, path, []ledger.Row{{
		Key:      ledger.Key{Org: "acme", Connection: "support-bot/openai", Month: "2026-11", Model: "gpt-4o"},
		Counters: ledger.Counters{Requests: 1, LastSeen: unixNano(2026, 11, 3, 10)},
	}}, nil)

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	factory := NewFactory()
	for range 2 {
		rcv, err := factory.CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type),
			cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, rcv.Shutdown(context.Background()))
	}
}
