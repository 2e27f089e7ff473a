package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

var errNotStarted = errors.New("usageledger receiver is not started; its ledger is not open")

// ledgerReader reads the ledger's rows of the emitted months and turns them
// into metrics, once per collection interval.
type ledgerReader struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	calendar  calendar.Calendar
	now       func() time.Time

	// mu guards the ledger handle, opened in start and closed in shutdown.
	mu    sync.Mutex
	store ledger.Store
}

func newLedgerReader(cfg *Config, set receiver.Settings) (*ledgerReader, error) {
	cal, err := calendar.New(cfg.DefaultTimeZone, cfg.orgZones())
	if err != nil {
		return nil, fmt.Errorf("usageledger receiver: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("usageledger receiver telemetry: %w", err)
	}
	return &ledgerReader{cfg: cfg, logger: set.Logger, telemetry: tb, calendar: cal, now: time.Now}, nil
}

// start opens the ledger, sharing the handle of an exporter of the same
// collector that names the same path.
func (r *ledgerReader) start(context.Context, component.Host) error {
	store, err := ledger.Open(r.cfg.Path)
	if err != nil {
		return fmt.Errorf("usageledger receiver: %w", err)
	}
	r.mu.Lock()
	r.store = store
	r.mu.Unlock()

	r.logger.Info("Usage ledger receiver started",
		zap.String("path", r.cfg.Path),
		zap.Duration("collection_interval", r.cfg.CollectionInterval),
		zap.Int("months", r.cfg.Months),
		zap.Strings("pinned_months", r.cfg.PinnedMonths),
		zap.String("default_time_zone", r.cfg.DefaultTimeZone),
		zap.Int("organizations_with_zone", r.calendar.OwnZones()),
	)
	return nil
}

// shutdown closes the ledger handle. It is safe without start and when
// called twice.
func (r *ledgerReader) shutdown(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.telemetry.Shutdown()
	if r.store == nil {
		return nil
	}
	err := r.store.Close()
	r.store = nil
	return err
}

// read returns the counters of the emitted months as metrics. A ledger that
// cannot be read fails the whole read: half a month's figures would be
// wrong figures.
func (r *ledgerReader) read(ctx context.Context) (pmetric.Metrics, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return pmetric.NewMetrics(), errNotStarted
	}

	now := r.now()
	rows, err := r.store.Rows(ctx, r.months(now))
	if err != nil {
		r.telemetry.ReceiverUsageledgerReadFailures.Add(ctx, 1)
		return pmetric.NewMetrics(), fmt.Errorf("usageledger receiver: %w", err)
	}
	conns, err := r.store.Connections(ctx)
	if err != nil {
		r.telemetry.ReceiverUsageledgerReadFailures.Add(ctx, 1)
		return pmetric.NewMetrics(), fmt.Errorf("usageledger receiver: %w", err)
	}
	return buildMetrics(rows, conns, r.calendar, now), nil
}

// months returns the pinned months, or else the configured number of months
// up to the month of now in every zone in use, newest first.
func (r *ledgerReader) months(now time.Time) []string {
	if len(r.cfg.PinnedMonths) > 0 {
		return r.cfg.PinnedMonths
	}
	return r.calendar.LastMonths(now, r.cfg.Months)
}
