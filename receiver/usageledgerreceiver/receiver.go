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

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

var errNotStarted = errors.New("usageledger receiver is not started; its ledger is not open")

// ledgerReader reads the ledger's rows of the emitted months, the
// connections that have rows among them and the budgets' current months,
// and turns them into metrics, once per collection interval.
type ledgerReader struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	calendar  calendar.Calendar
	now       func() time.Time

	// mu guards the ledger handle, opened in start and closed in shutdown,
	// and zones, the time zones the ledger has recorded, by name, each
	// loaded once.
	mu    sync.Mutex
	store ledger.Store
	zones map[string]*time.Location
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
// collector that names the same path, and warns of budgets whose names the
// ledger does not hold. It refuses a path with no ledger: the collector
// starts every exporter before any receiver, so an exporter of the same
// path has created the file by then, even on a first start.
func (r *ledgerReader) start(ctx context.Context, _ component.Host) error {
	store, err := ledger.Open(r.cfg.Path, ledger.WithLogger(r.logger), ledger.WithExistingFile())
	if errors.Is(err, ledger.ErrNoFile) {
		return fmt.Errorf("usageledger receiver: %w; the receiver reads the file a usageledger exporter "+
			"writes, so its path must be the exporter's (the exporter creates the file when it starts)", err)
	}
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
		zap.Int("organization_budgets", len(r.cfg.Budgets.Organizations)),
		zap.Int("connection_budgets", len(r.cfg.Budgets.Connections)),
	)
	if !r.cfg.Budgets.Empty() {
		known, err := store.Connections(ctx)
		if err != nil {
			// Collections will report the ledger's trouble; the check of
			// names is only a help, so start goes on.
			r.logger.Warn("Could not read the ledger's connections to check the budgets' names", zap.Error(err))
		} else {
			r.cfg.Budgets.WarnUnmatched(r.logger, known)
		}
	}
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
	months := r.months(now)
	rows, err := r.store.Rows(ctx, months)
	var conns []ledger.Connection
	if err == nil {
		conns, err = r.store.ConnectionsOf(ctx, connectionsOf(rows))
	}
	var recorded map[ledger.OrgMonth]*time.Location
	if err == nil {
		recorded, err = r.recordedZones(ctx, months)
	}
	var budgets []budget.State
	if err == nil {
		read := budget.MonthRows{Months: months, Rows: rows}
		budgets, err = budget.Read(ctx, r.store, &r.cfg.Budgets, r.calendar, now, read)
	}
	if err != nil {
		r.telemetry.ReceiverUsageledgerReadFailures.Add(ctx, 1)
		return pmetric.NewMetrics(), fmt.Errorf("usageledger receiver: %w", err)
	}
	return buildMetrics(rows, conns, budgets, r.calendar, recorded, now), nil
}

// recordedZones returns the zone each organization's month was first
// booked in, as the ledger recorded it, so that a month keeps its bounds
// after the organization's zone changes. A month without one (booked by a
// release that did not record zones) or with a name this build cannot
// load is left to the configured zone.
func (r *ledgerReader) recordedZones(
	ctx context.Context,
	months []string,
) (map[ledger.OrgMonth]*time.Location, error) {
	names, err := r.store.Zones(ctx, months)
	if err != nil {
		return nil, err
	}
	if r.zones == nil {
		r.zones = make(map[string]*time.Location)
	}
	recorded := make(map[ledger.OrgMonth]*time.Location, len(names))
	for k, name := range names {
		zone, ok := r.zones[name]
		if !ok {
			var err error
			if zone, err = calendar.LoadZone(name); err != nil {
				r.logger.Warn("The usage ledger recorded a time zone this build cannot load; "+
					"the months booked in it start in the configured zone", zap.Error(err))
			}
			r.zones[name] = zone
		}
		if zone != nil {
			recorded[k] = zone
		}
	}
	return recorded, nil
}

// connectionsOf returns the connections that have a row among rows, each
// once: the only ones whose gauges a read emits, so the only ones it reads,
// however many connections the ledger has seen.
func connectionsOf(rows []ledger.Row) []ledger.ConnectionID {
	seen := make(map[ledger.ConnectionID]struct{})
	var ids []ledger.ConnectionID
	for i := range rows {
		id := ledger.ConnectionID{Org: rows[i].Org, Connection: rows[i].Connection}
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	return ids
}

// months returns the pinned months, or else the configured number of months
// up to the month of now in every zone in use, newest first.
func (r *ledgerReader) months(now time.Time) []string {
	if len(r.cfg.PinnedMonths) > 0 {
		return r.cfg.PinnedMonths
	}
	return r.calendar.LastMonths(now, r.cfg.Months)
}
