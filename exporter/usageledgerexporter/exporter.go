package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadata"
	"github.com/usageledger/usageledger/internal/ledger"
)

var errNotStarted = errors.New("usageledger exporter is not started; its ledger is not open")

// ledgerExporter commits counted calls to the ledger and serves the ledger
// at /metrics.
type ledgerExporter struct {
	cfg       *Config
	settings  exporter.Settings
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	calendar  calendar
	now       func() time.Time

	// mu guards the ledger handle, opened in start and closed in shutdown.
	mu    sync.RWMutex
	store ledger.Store

	// The HTTP server, the address it listens on, and the goroutine serving it.
	server  *http.Server
	addr    string
	serving sync.WaitGroup
}

func newLedgerExporter(cfg *Config, set exporter.Settings) (*ledgerExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("usageledger exporter telemetry: %w", err)
	}
	return &ledgerExporter{
		cfg:       cfg,
		settings:  set,
		logger:    set.Logger,
		telemetry: tb,
		calendar:  calendar{zone: time.UTC},
		now:       time.Now,
	}, nil
}

func (e *ledgerExporter) start(ctx context.Context, host component.Host) error {
	store, err := ledger.Open(e.cfg.Path)
	if err != nil {
		return fmt.Errorf("usageledger exporter: %w", err)
	}
	e.mu.Lock()
	e.store = store
	e.mu.Unlock()

	if err := e.startServer(ctx, host); err != nil {
		return errors.Join(fmt.Errorf("usageledger exporter: metrics server: %w", err), e.shutdown(ctx))
	}

	e.logger.Info("Usage ledger exporter started",
		zap.String("path", e.cfg.Path),
		zap.String("endpoint", e.addr),
		zap.String("metrics_path", metricsPath),
		zap.Int("months", e.cfg.Months),
		zap.Strings("pinned_months", e.cfg.PinnedMonths),
		zap.Duration("timeout", e.cfg.TimeoutConfig.Timeout),
		zap.Bool("retry_on_failure", e.cfg.RetryConfig.Enabled),
	)
	return nil
}

// shutdown stops the server and closes the ledger. It is safe without start
// and when called twice.
func (e *ledgerExporter) shutdown(ctx context.Context) error {
	err := e.stopServer(ctx)

	e.mu.Lock()
	if e.store != nil {
		err = errors.Join(err, e.store.Close())
		e.store = nil
	}
	e.mu.Unlock()

	e.telemetry.Shutdown()
	return err
}

// consumeTraces commits the counted calls of td in one batch. It returns nil
// only once the batch is on disk; any commit failure is retryable. A
// malformed span never fails the batch.
func (e *ledgerExporter) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	t := countTraces(td, e.calendar, e.now())
	if t.malformed > 0 {
		e.telemetry.ExporterUsageledgerMalformedSpans.Add(ctx, t.malformed)
	}
	if t.atArrival > 0 {
		e.telemetry.ExporterUsageledgerCallsBookedAtArrival.Add(ctx, t.atArrival)
	}
	if t.batch.Empty() {
		return nil
	}

	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.store == nil {
		return errNotStarted
	}

	start := time.Now()
	err := e.store.Commit(ctx, t.batch)
	e.telemetry.ExporterUsageledgerCommitDuration.Record(ctx, time.Since(start).Seconds())
	if err != nil {
		e.telemetry.ExporterUsageledgerCommitFailures.Add(ctx, 1)
		return fmt.Errorf("usageledger exporter: %w", err)
	}
	e.telemetry.ExporterUsageledgerCommits.Add(ctx, 1)
	e.telemetry.ExporterUsageledgerCalls.Add(ctx, t.calls)
	return nil
}

// ledger returns the open ledger, or nil before start and after shutdown.
func (e *ledgerExporter) ledger() ledger.Store {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.store
}
