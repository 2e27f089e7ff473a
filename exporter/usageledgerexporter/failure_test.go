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
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
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
	cfg := testConfig(t)
	cfg.Path = filepath.Join(dir, "usage-ledger.db")
	cfg.Limits.ConnectionsPerOrganization = 1_000_000
	r, logs := startObserved(t, cfg)
	traces := r.traces

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
	rows, err := r.inner.ledger().Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	for _, r := range rows {
		requests += r.Requests
	}
	assert.Equal(t, uint64(acked), requests)
}

// A client that stops waiting before the ledger takes its batch, as when
// storage stalls past the client's timeout, fails that export alone: it is
// retryable and nothing of it is counted. No commit failed, so none is
// logged or counted; the wait is recorded and, if long, logged as slow.
func TestCallerGivingUpIsNotACommitFailure(t *testing.T) {
	r, logs := startObserved(t, testConfig(t))
	r.inner.slowCommit = 0 // every wait is long
	td := tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")})

	for _, ctx := range []context.Context{canceled(), expired()} {
		err := r.traces.ConsumeTraces(ctx, td)
		require.ErrorIs(t, err, ctx.Err())
		assert.False(t, consumererror.IsPermanent(err), "the export must be retried")
	}
	assert.Empty(t, r.rows(t, "2026-11"))
	assert.Empty(t, logs.FilterMessageSnippet("commits are failing").All())
	metadatatest.AssertEqualExporterUsageledgerCommitFailures(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	assert.Equal(t, uint64(2), commitWaits(t, r))

	// Only the first slow wait is logged within a minute.
	slow := logs.FilterMessageSnippet("Usage ledger commits are slow").All()
	require.Len(t, slow, 1)
	assert.Equal(t, zapcore.WarnLevel, slow[0].Level)
	assert.Equal(t, true, slow[0].ContextMap()["client_gave_up"])
	assert.Equal(t, int64(1), slow[0].ContextMap()["slow_exports"])

	// The retry counts in full.
	r.consume(t, td)
	rows := r.rows(t, "2026-11")
	require.Len(t, rows, 1)
	for _, c := range rows {
		assert.Equal(t, uint64(1), c.Requests)
	}
	assert.Equal(t, uint64(3), commitWaits(t, r))
}

// commitWaits returns the number of waits exporter_usageledger_commit_duration
// recorded.
func commitWaits(t *testing.T, r *running) uint64 {
	t.Helper()
	m, err := r.telemetry.GetMetric("otelcol_exporter_usageledger_commit_duration")
	require.NoError(t, err)
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%T", m.Data)
	require.Len(t, h.DataPoints, 1)
	return h.DataPoints[0].Count
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func expired() context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	cancel()
	return ctx
}

// A commit that waited long is logged as slow, its client not having given
// up.
func TestSlowCommitIsLogged(t *testing.T) {
	r, logs := startObserved(t, testConfig(t))
	r.inner.slowCommit = 0
	r.consume(t, tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")}))

	slow := logs.FilterMessageSnippet("Usage ledger commits are slow").All()
	require.Len(t, slow, 1)
	assert.Equal(t, false, slow[0].ContextMap()["client_gave_up"])
	assert.Equal(t, int64(1), slow[0].ContextMap()["slow_exports"])
}

// Slow waits are logged at most once a minute, counted by when they end:
// two waits ending together log once, however long the first took.
func TestSlowCommitsAreLoggedOncePerMinute(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	logger := zap.New(core)
	var h commitHealth
	t0 := time.Date(2026, time.November, 15, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, time.Second, 59 * time.Second, time.Minute, 90 * time.Second, 3 * time.Minute} {
		h.slow(logger, 2*time.Second, false, t0.Add(at))
	}
	// Logged at 0 (1 slow wait), at 1 min (the 3 since: 1 s, 59 s and
	// 1 min) and at 3 min (90 s and 3 min).
	var counts []any
	for _, e := range logs.All() {
		counts = append(counts, e.ContextMap()["slow_exports"])
	}
	assert.Equal(t, []any{int64(1), int64(3), int64(2)}, counts)

	// A wait of 61 s and one of 1 s that began a minute later end together.
	h.slow(logger, 61*time.Second, false, t0.Add(10*time.Minute))
	h.slow(logger, time.Second, false, t0.Add(10*time.Minute+time.Millisecond))
	assert.Len(t, logs.All(), 4)
}
