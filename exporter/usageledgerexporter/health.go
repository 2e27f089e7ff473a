package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"sync"

	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// commitHealth turns commit failures into log lines: one error when commits
// start failing (disk full, file read-only, I/O error), one line when they
// succeed again, and nothing per failed batch in between; the failures are
// counted in exporter_usageledger_commit_failures. Safe for concurrent use.
type commitHealth struct {
	mu       sync.Mutex
	failures int64 // since the last success
	warned   bool  // the dedup bound was reported
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
		"before dedup::window ends (counted in exporter_usageledger_dedup_evicted)",
		zap.Int64("recorded_keys", res.Recorded))
}
