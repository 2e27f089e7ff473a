package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadata"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

var errNotStarted = errors.New("usageledger exporter is not started; its ledger is not open")

// ledgerExporter commits counted calls to the ledger and serves the ledger
// at /metrics.
type ledgerExporter struct {
	cfg       *Config
	settings  exporter.Settings
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	calendar  ledgerCalendar
	now       func() time.Time
	// openOptions are passed to ledger.Open; benchmarks turn off the sync.
	openOptions []ledger.Option

	// mu guards the ledger handle and the counter built on it, set in start
	// and cleared in shutdown.
	mu      sync.RWMutex
	store   ledger.Store
	counter *counter

	// failing tracks commit failures, so that an outage logs when it starts
	// and when it ends rather than once per batch, and slow commits.
	failing commitHealth
	// slowCommit is how long an export may wait for its commit before the
	// wait is logged as slow.
	slowCommit time.Duration

	// The HTTP server, the address it listens on, and the goroutine serving it.
	server  *http.Server
	addr    string
	serving sync.WaitGroup
}

func newLedgerExporter(cfg *Config, set exporter.Settings) (*ledgerExporter, error) {
	cal, err := newLedgerCalendar(cfg)
	if err != nil {
		return nil, fmt.Errorf("usageledger exporter: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("usageledger exporter telemetry: %w", err)
	}
	return &ledgerExporter{
		cfg:        cfg,
		settings:   set,
		logger:     set.Logger,
		telemetry:  tb,
		calendar:   cal,
		now:        time.Now,
		slowCommit: slowCommit,
	}, nil
}

func (e *ledgerExporter) start(ctx context.Context, host component.Host) error {
	store, err := ledger.Open(e.cfg.Path, append([]ledger.Option{ledger.WithLogger(e.logger)}, e.openOptions...)...)
	if err != nil {
		return fmt.Errorf("usageledger exporter: %w", err)
	}
	known, err := store.Connections(ctx)
	if err != nil {
		return errors.Join(fmt.Errorf("usageledger exporter: %w", err), store.Close())
	}
	// The models of the exposed months are admitted again, so that the
	// models a restart lets in are the ones it let in before.
	recent, err := store.Rows(ctx, e.exposedMonths())
	if err != nil {
		return errors.Join(fmt.Errorf("usageledger exporter: %w", err), store.Close())
	}
	e.mu.Lock()
	e.store = store
	e.counter = &counter{calendar: e.calendar, guard: newGuard(e.cfg.Limits, known, recent), dedup: e.cfg.Dedup}
	e.mu.Unlock()
	if len(recent) >= largeScrapeRows {
		// What opening the ledger and these reads allocated is garbage
		// now, as after a large scrape (see serveMetrics).
		returnMemory()
	}

	if err := e.startServer(ctx, host); err != nil {
		return errors.Join(fmt.Errorf("usageledger exporter: metrics server: %w", err), e.shutdown(ctx))
	}

	// The failure counter exists from the start, at 0, so that a rate over
	// it sees the first failure.
	e.telemetry.ExporterUsageledgerCommitFailures.Add(ctx, 0)

	e.logger.Info("Usage ledger exporter started",
		zap.String("path", e.cfg.Path),
		zap.String("endpoint", e.addr),
		zap.String("metrics_path", metricsPath),
		zap.Int("months", e.cfg.Months),
		zap.Strings("pinned_months", e.cfg.PinnedMonths),
		zap.String("default_time_zone", e.cfg.DefaultTimeZone),
		zap.Int("organizations_with_time_zone", e.calendar.OwnZones()),
		zap.Duration("future_skew", e.cfg.FutureSkew),
		zap.Duration("dedup_window", e.cfg.Dedup.Window),
		zap.Int("dedup_max_entries", e.cfg.Dedup.MaxEntries),
		zap.Int("max_organizations", e.cfg.Limits.Organizations),
		zap.Int("max_connections_per_organization", e.cfg.Limits.ConnectionsPerOrganization),
		zap.Int("max_models_per_connection", e.cfg.Limits.ModelsPerConnection),
		zap.Int("known_connections", len(known)),
		zap.Bool("backup", e.cfg.Backup),
		zap.Bool("persistent_queue", e.cfg.QueueConfig.HasValue() && e.cfg.QueueConfig.Get().StorageID != nil),
		zap.Duration("timeout", e.cfg.TimeoutConfig.Timeout),
		zap.Bool("retry_on_failure", e.cfg.RetryConfig.Enabled),
	)
	e.warnIfBackupOpen()
	e.warnIfSkewShort()
	e.noteOneProcessor()
	e.cfg.Budgets.WarnUnmatched(e.logger, known)
	return nil
}

// warnIfSkewShort warns of a future_skew below the 5 minutes past which
// the genaiusage processor prices a call at the moment it sees it: a call
// ending between the two ahead of its arrival is then priced at its end
// but booked at its arrival.
func (e *ledgerExporter) warnIfSkewShort() {
	if e.cfg.FutureSkew >= usage.FutureSkew {
		return
	}
	e.logger.Warn("future_skew is shorter than the 5m after which the genaiusage processor prices a call "+
		"at the moment it sees it: a call ending between the two after it arrives is priced at its end "+
		"and booked at its arrival. Set future_skew to 5m or more",
		zap.Duration("future_skew", e.cfg.FutureSkew))
}

// noteOneProcessor tells an operator running with GOMAXPROCS=1 (the
// setting, a machine of one CPU, or a CPU set of one; a CPU quota of one
// still gets 2) what that costs, once per process however many exporters
// start. A commit waits for the disk in fdatasync, twice, and the Go
// runtime lets a thread in a system call keep its P (the right to run Go
// code, of which GOMAXPROCS says how many there are) until the call
// returns or the runtime's monitor takes the P back. The monitor takes it
// at its second look at the same call, and looks every 20 µs while it
// finds work, backing off to every 10 ms while it finds none, so a sync
// shorter than a few of its periods is mostly never taken. With one P no
// other export is decoded or counted for most of each wait: at saturation
// on one core the collector idles about a seventh of the time. A second P
// on the same core keeps it busy (the testbed's "GOMAXPROCS=2" rows).
func (e *ledgerExporter) noteOneProcessor() {
	if runtime.GOMAXPROCS(0) != 1 || !oneProcessorNoted.CompareAndSwap(false, true) {
		return
	}
	e.logger.Info("GOMAXPROCS is 1: while the usage ledger waits for its disk to sync a commit, "+
		"the Go runtime lets that thread keep its only P, the right to run Go code, so for most of "+
		"each wait no other export is received, processed or counted. Set GOMAXPROCS=2, even on "+
		"one CPU core, to use that time",
		zap.Int("gomaxprocs", 1))
}

// oneProcessorNoted says noteOneProcessor has logged its note in this
// process.
var oneProcessorNoted atomic.Bool

// shutdown stops the server and closes the ledger. It is safe without start
// and when called twice.
func (e *ledgerExporter) shutdown(ctx context.Context) error {
	err := e.stopServer(ctx)

	e.mu.Lock()
	if e.store != nil {
		err = errors.Join(err, e.store.Close())
		e.store = nil
		e.counter = nil
	}
	e.mu.Unlock()

	e.telemetry.Shutdown()
	return err
}

// consumeTraces commits the counted calls of td in one batch. It returns nil
// only once the batch is on disk; any commit failure is retryable and
// records nothing, so the retry counts in full. A malformed span never fails
// the batch, and a span already counted within the dedup window, or another
// span of a response already counted, is not counted again.
func (e *ledgerExporter) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.store == nil {
		return errNotStarted
	}

	t := e.counter.countTraces(td, e.now())
	if t.batch.Empty() {
		return nil
	}

	start := time.Now()
	res, err := e.store.Commit(ctx, t.batch)
	took := time.Since(start)
	e.telemetry.ExporterUsageledgerCommitDuration.Record(ctx, took.Seconds())
	// The caller may stop waiting before the ledger takes the batch, as when
	// storage stalls: nothing of it is counted, and no commit failed.
	gaveUp := err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
	if took >= e.slowCommit {
		e.failing.slow(e.logger, took, gaveUp, start.Add(took))
	}
	if gaveUp {
		return fmt.Errorf("usageledger exporter: batch not committed: %w", err)
	}
	if err != nil {
		e.telemetry.ExporterUsageledgerCommitFailures.Add(ctx, 1)
		e.failing.failed(e.logger, err)
		return fmt.Errorf("usageledger exporter: %w", err)
	}
	e.failing.succeeded(e.logger)

	// Per-span figures count once the batch is committed, so a retried
	// batch does not count its malformed spans twice.
	e.telemetry.ExporterUsageledgerCommits.Add(ctx, 1)
	e.telemetry.ExporterUsageledgerCalls.Add(ctx, t.calls-t.repeated()-res.Duplicates)
	addIf(ctx, e.telemetry.ExporterUsageledgerDuplicateSpans,
		t.repeatedSpans+res.Duplicates-res.ResponseDuplicates, reasonSpan)
	addIf(ctx, e.telemetry.ExporterUsageledgerDuplicateSpans,
		t.repeatedResponses+res.ResponseDuplicates, reasonResponse)
	addIf(ctx, e.telemetry.ExporterUsageledgerDedupEvicted, res.Evicted)
	addIf(ctx, e.telemetry.ExporterUsageledgerMalformedSpans, t.malformed)
	addIf(ctx, e.telemetry.ExporterUsageledgerCallsBookedAtArrival, t.atArrival)
	addIf(ctx, e.telemetry.ExporterUsageledgerCallsDatedInFuture, t.future)
	for _, limit := range []string{limitOrganizations, limitConnections, limitModels} {
		addIf(ctx, e.telemetry.ExporterUsageledgerCallsOverflowed, t.overflowed[limit], overflowLimits[limit])
	}
	if res.Evicted > 0 {
		e.failing.evicted(e.logger, res)
	}
	return nil
}

// The reasons of exporter_usageledger_duplicate_spans, built once.
var (
	reasonSpan     = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "span")))
	reasonResponse = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "response")))
)

// The limits of exporter_usageledger_calls_overflowed, built once.
var overflowLimits = map[string]metric.AddOption{
	limitOrganizations: metric.WithAttributeSet(attribute.NewSet(attribute.String("limit", limitOrganizations))),
	limitConnections:   metric.WithAttributeSet(attribute.NewSet(attribute.String("limit", limitConnections))),
	limitModels:        metric.WithAttributeSet(attribute.NewSet(attribute.String("limit", limitModels))),
}

func addIf(ctx context.Context, c metric.Int64Counter, n int64, opts ...metric.AddOption) {
	if n > 0 {
		c.Add(ctx, n, opts...)
	}
}

// ledger returns the open ledger, or nil before start and after shutdown.
func (e *ledgerExporter) ledger() ledger.Store {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.store
}
