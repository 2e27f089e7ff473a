package usageledgerexporter

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/usage"
)

// smallDisk mounts a tmpfs of the given size at a new directory, or skips
// the test where mounting is not allowed. Running as root, file permissions
// stop no write, so a full file system is the honest way to fail one.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full case needs root", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// manyConnections is one request of n spans, each on a connection of its
// own named by round, with span ids from round.
func manyConnections(t *testing.T, round, n int) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := ss.AppendEmpty()
		sp.SetEndTimestamp(1_794_303_000_000_000_000) // 2026-11-10
		sp.SetTraceID([16]byte{0: 1, 1: byte(round), 2: byte(round >> 8), 3: byte(i), 4: byte(i >> 8)})
		sp.SetSpanID([8]byte{0: 1, 1: byte(i), 2: byte(i >> 8)})
		attrs := call("acme", "conn-"+strconv.Itoa(round)+"-"+strconv.Itoa(i), "gpt-4o")
		attrs[usage.AttrTeam] = string(make([]byte, 300)) // large records fill pages fast
		require.NoError(t, sp.Attributes().FromRaw(attrs))
	}
	return td
}

func TestDiskFullIsRetryableAndLoggedOnce(t *testing.T) {
	dir := smallDisk(t, "3m")
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := testConfig(t)
	cfg.Path = filepath.Join(dir, "usage-ledger.db")
	cfg.Limits.ConnectionsPerOrganization = 1_000_000

	tel := componenttest.NewTelemetry()
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	e, err := newLedgerExporter(cfg, set)
	require.NoError(t, err)
	e.now = func() time.Time { return arrival }
	traces, err := newTraces(context.Background(), set, e)
	require.NoError(t, err)
	require.NoError(t, traces.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, traces.Shutdown(context.Background())) }()

	// Half the disk goes to another file, so that it can be freed later.
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 1<<20), 0o600))

	var acked, failed int
	round := 0
	for ; round < 500 && failed < 3; round++ {
		err := traces.ConsumeTraces(context.Background(), manyConnections(t, round, 20))
		if err == nil {
			require.Zero(t, failed, "a commit succeeded on a full disk")
			acked += 20
			continue
		}
		assert.False(t, consumererror.IsPermanent(err), "a full disk must be retried: %v", err)
		assert.ErrorContains(t, err, "no space left on device")
		failed++
	}
	require.Equal(t, 3, failed, "a 3 MiB disk must fill up")

	// The exporter helper logs each rejected request on its own; the
	// exporter adds one line for the outage, not one per batch.
	outage := logs.FilterLevelExact(zapcore.ErrorLevel).FilterMessageSnippet("Usage ledger").All()
	require.Len(t, outage, 1)
	assert.Contains(t, outage[0].Message, "Usage ledger commits are failing")

	// Space comes back: the retry of the last refused request counts, once.
	require.NoError(t, os.Remove(filler))
	require.NoError(t, traces.ConsumeTraces(context.Background(), manyConnections(t, round-1, 20)))
	acked += 20
	recovered := logs.FilterMessage("Usage ledger commits succeed again").All()
	require.Len(t, recovered, 1)
	assert.Equal(t, int64(3), recovered[0].ContextMap()["failed_commits"])

	var requests uint64
	rows, err := e.ledger().Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	for _, r := range rows {
		requests += r.Requests
	}
	assert.Equal(t, uint64(acked), requests)
}
