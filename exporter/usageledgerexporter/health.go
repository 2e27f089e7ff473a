package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// An export that waits slowCommit or longer for its commit means the
// ledger's disk holds the exports up (a healthy one syncs in milliseconds);
// such waits are logged at most once per slowCommitEvery.
const (
	slowCommit      = time.Second
	slowCommitEvery = time.Minute
)

// commitHealth turns commit failures into log lines: one error when commits
// start failing (disk full, file read-only, I/O error), one line when they
// succeed again, and nothing per failed batch in between; the failures are
// counted in exporter_usageledger_commit_failures. Slow commits log a
// warning now and then. Safe for concurrent use.
type commitHealth struct {
	mu       sync.Mutex
	failures int64 // since the last success
	warned   bool  // the dedup bound was reported

	// slowLogged is when a slow wait was last logged; slowSince counts the
	// slow waits since then.
	slowLogged time.Time
	slowSince  int64
}

func (h *commitHealth) failed(logger *zap.Logger, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	if h.failures == 1 {
		logger.Error("Usage ledger commits are failing; batches are refused with a retryable error "+
			"and nothing of them is counted until a commit succeeds",
			zap.Error(err))
	}
}

func (h *commitHealth) succeeded(logger *zap.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures > 0 {
		logger.Info("Usage ledger commits succeed again", zap.Int64("failed_commits", h.failures))
		h.failures = 0
	}
}

// slow logs, at now, an export that waited took for its commit, unless a
// slow wait was logged less than slowCommitEvery before; the next line
// counts those left out. gaveUp says its caller stopped waiting before the
// ledger took the batch.
func (h *commitHealth) slow(logger *zap.Logger, took time.Duration, gaveUp bool, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slowSince++
	if !h.slowLogged.IsZero() && now.Sub(h.slowLogged) < slowCommitEvery {
		return
	}
	logger.Warn("Usage ledger commits are slow; exports wait for the ledger file's disk "+
		"(otelcol_exporter_usageledger_commit_duration)",
		zap.Duration("waited", took), zap.Bool("client_gave_up", gaveUp),
		zap.Int64("slow_exports", h.slowSince))
	h.slowLogged, h.slowSince = now, 0
}

// evicted warns once that the dedup bound is reached: keys are forgotten
// before their window ends, so a late repeat of them would count again.
func (h *commitHealth) evicted(logger *zap.Logger, res ledger.CommitResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.warned {
		return
	}
	h.warned = true
	logger.Warn("Usage ledger dedup holds dedup::max_entries keys; the oldest are forgotten "+
		"before dedup::window ends (counted in otelcol_exporter_usageledger_dedup_evicted)",
		zap.Int64("recorded_keys", res.Recorded))
}
