package usageledgerreceiver

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadatatest"
)

// utc books every organization in UTC.
var utc = calendar.Of(time.UTC, nil)

// unixNano returns the unix nanoseconds of a UTC date and time.
func unixNano(year int, month time.Month, day, hour int) int64 {
	return time.Date(year, month, day, hour, 0, 0, 0, time.UTC).UnixNano()
}

// commitRows writes rows and connection infos to the ledger at path.
func commitRows(t *testing.T, path string, rows []ledger.Row, conns []ledger.Connection) {
	t.Helper()
	store, err := ledger.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()

	b := ledger.NewBatch()
	for _, r := range rows {
		b.Add(r.Key, r.Counters)
	}
	for _, c := range conns {
		b.SetConnection(c.ConnectionID, c.ConnectionInfo)
	}
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)
}

// point is one emitted data point flattened for comparison.
type point struct {
	attrs      map[string]any
	start, at  time.Time
	intValue   int64
	floatValue float64
}

// pointsOf returns the points of every metric of md by metric name, and the
// metric's unit and kind as "name unit kind".
func pointsOf(t *testing.T, md pmetric.Metrics) (map[string][]point, []string) {
	t.Helper()
	require.Equal(t, 1, md.ResourceMetrics().Len())
	sms := md.ResourceMetrics().At(0).ScopeMetrics()
	require.Equal(t, 1, sms.Len())
	assert.Equal(t, metadata.ScopeName, sms.At(0).Scope().Name())

	byName := make(map[string][]point)
	var shapes []string
	ms := sms.At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		var dps pmetric.NumberDataPointSlice
		switch m.Type() {
		case pmetric.MetricTypeSum:
			require.True(t, m.Sum().IsMonotonic(), m.Name())
			require.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality(), m.Name())
			dps = m.Sum().DataPoints()
			shapes = append(shapes, m.Name()+" "+m.Unit()+" sum")
		case pmetric.MetricTypeGauge:
			dps = m.Gauge().DataPoints()
			shapes = append(shapes, m.Name()+" "+m.Unit()+" gauge")
		default:
			t.Fatalf("metric %s has type %s; expecting sum or gauge", m.Name(), m.Type())
		}
		for j := 0; j < dps.Len(); j++ {
			dp := dps.At(j)
			p := point{attrs: dp.Attributes().AsRaw(), at: dp.Timestamp().AsTime()}
			if dp.StartTimestamp() != 0 {
				p.start = dp.StartTimestamp().AsTime()
			}
			switch dp.ValueType() {
			case pmetric.NumberDataPointValueTypeInt:
				p.intValue = dp.IntValue()
			case pmetric.NumberDataPointValueTypeDouble:
				p.floatValue = dp.DoubleValue()
			}
			byName[m.Name()] = append(byName[m.Name()], p)
		}
	}
	return byName, shapes
}

func TestBuildMetrics(t *testing.T) {
	now := time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC)
	octStart := time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC)
	novStart := time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

	rows := []ledger.Row{
		{Key: ledger.Key{Org: "acme", Connection: "support-bot", Month: "2026-11", Model: "gpt-4o"},
			Counters: ledger.Counters{Requests: 10, Blocked: 2, RateLimited: 1, Errors: 1, Filtered: 1,
				InputTokens: 1000, OutputTokens: 200, CacheReadTokens: 300, CacheWriteTokens: 50,
				ReasoningTokens: 20, Cost: ledger.PicoUSD(4_500_000_000_000), Unpriced: 0, UsageMissing: 1,
				FirstSeen: unixNano(2026, 11, 2, 9), LastSeen: unixNano(2026, 11, 19, 17)}},
		{Key: ledger.Key{Org: "acme", Connection: "support-bot", Month: "2026-10", Model: "gpt-4o"},
			Counters: ledger.Counters{Requests: 4, InputTokens: 400, OutputTokens: 40,
				Cost: ledger.PicoUSD(1_250_000_000_000), Unpriced: 3,
				FirstSeen: unixNano(2026, 10, 5, 9), LastSeen: unixNano(2026, 10, 30, 8)}},
	}
	conns := []ledger.Connection{
		{ConnectionID: ledger.ConnectionID{Org: "acme", Connection: "support-bot"},
			ConnectionInfo: ledger.ConnectionInfo{Team: "care", CostCenter: "cc-17", LastSeen: unixNano(2026, 11, 19, 17)}},
		// No row in the emitted months: not listed, as on the exporter's /metrics.
		{ConnectionID: ledger.ConnectionID{Org: "acme", Connection: "retired"},
			ConnectionInfo: ledger.ConnectionInfo{Team: "old", LastSeen: unixNano(2025, 1, 3, 0)}},
	}

	got, shapes := pointsOf(t, buildMetrics(rows, conns, nil, utc, nil, now))

	assert.Equal(t, []string{
		"genai.connection.requests {request} sum",
		"genai.connection.blocked {request} sum",
		"genai.connection.rate_limited {request} sum",
		"genai.connection.errors {request} sum",
		"genai.connection.filtered {request} sum",
		"genai.connection.unpriced_requests {request} sum",
		"genai.connection.usage_missing {request} sum",
		"genai.connection.tokens {token} sum",
		"genai.connection.cost_usd {USD} sum",
		"genai.connection.last_seen_timestamp s gauge",
		"genai.connection.info  gauge",
	}, shapes)

	oct := map[string]any{"org": "acme", "connection": "support-bot", "model": "gpt-4o", "month": "2026-10"}
	nov := map[string]any{"org": "acme", "connection": "support-bot", "model": "gpt-4o", "month": "2026-11"}
	// Rows come sorted by org, connection, model, month: October first.
	counts := map[string][2]int64{
		"genai.connection.requests":          {4, 10},
		"genai.connection.blocked":           {0, 2},
		"genai.connection.rate_limited":      {0, 1},
		"genai.connection.errors":            {0, 1},
		"genai.connection.filtered":          {0, 1},
		"genai.connection.unpriced_requests": {3, 0},
		"genai.connection.usage_missing":     {0, 1},
	}
	for name, want := range counts {
		assert.Equal(t, []point{
			{attrs: oct, start: octStart, at: now, intValue: want[0]},
			{attrs: nov, start: novStart, at: now, intValue: want[1]},
		}, got[name], name)
	}

	withType := func(attrs map[string]any, typ string) map[string]any {
		m := map[string]any{"type": typ}
		for k, v := range attrs {
			m[k] = v
		}
		return m
	}
	assert.Equal(t, []point{
		{attrs: withType(oct, "input"), start: octStart, at: now, intValue: 400},
		{attrs: withType(oct, "output"), start: octStart, at: now, intValue: 40},
		{attrs: withType(oct, "cache_read"), start: octStart, at: now, intValue: 0},
		{attrs: withType(oct, "cache_write"), start: octStart, at: now, intValue: 0},
		{attrs: withType(oct, "reasoning"), start: octStart, at: now, intValue: 0},
		{attrs: withType(nov, "input"), start: novStart, at: now, intValue: 1000},
		{attrs: withType(nov, "output"), start: novStart, at: now, intValue: 200},
		{attrs: withType(nov, "cache_read"), start: novStart, at: now, intValue: 300},
		{attrs: withType(nov, "cache_write"), start: novStart, at: now, intValue: 50},
		{attrs: withType(nov, "reasoning"), start: novStart, at: now, intValue: 20},
	}, got["genai.connection.tokens"])

	// 1.25e12 and 4.5e12 picodollars are 1.25 and 4.5 USD, exact in float64.
	assert.Equal(t, []point{
		{attrs: oct, start: octStart, at: now, floatValue: 1.25},
		{attrs: nov, start: novStart, at: now, floatValue: 4.5},
	}, got["genai.connection.cost_usd"])

	conn := map[string]any{"org": "acme", "connection": "support-bot"}
	// 2026-11-19 17:00 UTC is unix 1795107600 (date -u -d "2026-11-19 17:00" +%s).
	assert.Equal(t, []point{{attrs: conn, at: now, floatValue: 1795107600}},
		got["genai.connection.last_seen_timestamp"])
	assert.Equal(t, []point{{
		attrs: map[string]any{"org": "acme", "connection": "support-bot", "team": "care", "cost_center": "cc-17"},
		at:    now, intValue: 1,
	}}, got["genai.connection.info"])
}

func TestBuildMetricsEmptyLedger(t *testing.T) {
	got, shapes := pointsOf(t, buildMetrics(nil, nil, nil, utc, nil, time.Now()))
	assert.Len(t, shapes, 11, "every metric is present, with no points; no budget gauges without budgets")
	assert.Empty(t, got)
}

func TestClampInt64(t *testing.T) {
	f := func(n uint64, want int64) {
		t.Helper()
		assert.Equal(t, want, clampInt64(n))
	}
	f(0, 0)
	f(42, 42)
	f(1<<63-1, 1<<63-1)
	f(1<<63, 1<<63-1)
	f(^uint64(0), 1<<63-1)
}

func TestMonths(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	f := func(cfg *Config, cal calendar.Calendar, now time.Time, want []string) {
		t.Helper()
		r := &ledgerReader{cfg: cfg, calendar: cal}
		assert.Equal(t, want, r.months(now))
	}
	jan := time.Date(2027, time.January, 1, 0, 30, 0, 0, time.UTC)
	f(&Config{Months: 2}, utc, jan, []string{"2027-01", "2026-12"})
	f(&Config{Months: 13}, utc, jan, []string{"2027-01", "2026-12", "2026-11", "2026-10", "2026-09", "2026-08",
		"2026-07", "2026-06", "2026-05", "2026-04", "2026-03", "2026-02", "2026-01"})
	f(&Config{Months: 2, PinnedMonths: []string{"2025-03"}}, utc, jan, []string{"2025-03"})
	// March 31st minus one month normalizes to March 3rd in Go; months are
	// counted from the first of the month so February is not skipped.
	f(&Config{Months: 2}, utc, time.Date(2026, time.March, 31, 12, 0, 0, 0, time.UTC), []string{"2026-03", "2026-02"})
	// 2026-12-31 23:30 UTC is already January in Berlin: an organization
	// there needs January, the others December and November.
	withBerlin := calendar.Of(time.UTC, map[string]*time.Location{"globex": berlin})
	f(&Config{Months: 2}, withBerlin, time.Date(2026, time.December, 31, 23, 30, 0, 0, time.UTC),
		[]string{"2027-01", "2026-12", "2026-11"})
}

func TestStartTimeInOrganizationZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cal := calendar.Of(time.UTC, map[string]*time.Location{"globex": berlin})
	rows := []ledger.Row{
		{Key: ledger.Key{Org: "acme", Connection: "bot", Month: "2026-12", Model: "m"}, Counters: ledger.Counters{Requests: 1}},
		{Key: ledger.Key{Org: "globex", Connection: "bot", Month: "2026-12", Model: "m"}, Counters: ledger.Counters{Requests: 2}},
	}
	got, _ := pointsOf(t, buildMetrics(rows, nil, nil, cal, nil, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)))
	req := got["genai.connection.requests"]
	require.Len(t, req, 2)
	// December starts at 00:00 UTC for acme, and at 00:00 in Berlin (UTC+1),
	// 2026-11-30 23:00 UTC, for globex.
	assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), req[0].start.UTC())
	assert.Equal(t, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), req[1].start.UTC())
}

// A month keeps the bounds of the zone it was first booked in: acme's
// November was booked in Shanghai (UTC+8) and starts 2026-10-31 16:00 UTC
// though acme is now configured in Los Angeles; its December, booked with
// no zone recorded, starts at midnight in Los Angeles (UTC-8), 08:00 UTC.
func TestStartTimeOfTheZoneRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	store, err := ledger.Open(path)
	require.NoError(t, err)
	b := ledger.NewBatch()
	for _, month := range []string{"2026-11", "2026-12"} {
		b.Add(ledger.Key{Org: "acme", Connection: "bot/openai", Month: month, Model: "gpt-4o"},
			ledger.Counters{Requests: 1, LastSeen: unixNano(2026, 11, 20, 10)})
	}
	b.SetZone("acme", "2026-11", "Asia/Shanghai")
	// A zone name this build cannot load, as a newer release's might be:
	// globex's November starts in its configured zone, UTC, with a warning.
	b.Add(ledger.Key{Org: "globex", Connection: "bot/openai", Month: "2026-11", Model: "gpt-4o"},
		ledger.Counters{Requests: 1, LastSeen: unixNano(2026, 11, 20, 10)})
	b.SetZone("globex", "2026-11", "Mars/Olympus_Mons")
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)
	require.NoError(t, store.Close())

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	cfg.PinnedMonths = []string{"2026-12", "2026-11"}
	cfg.Organizations = map[string]OrganizationConfig{"acme": {TimeZone: "America/Los_Angeles"}}
	r, logs := startObservedReader(t, cfg)
	defer func() { require.NoError(t, r.shutdown(context.Background())) }()
	md, err := r.read(context.Background())
	require.NoError(t, err)

	got, _ := pointsOf(t, md)
	starts := map[string]time.Time{}
	for _, p := range got["genai.connection.requests"] {
		starts[p.attrs["org"].(string)+" "+p.attrs["month"].(string)] = p.start.UTC()
	}
	assert.Equal(t, map[string]time.Time{
		"acme 2026-11":   time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC),
		"acme 2026-12":   time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		"globex 2026-11": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}, starts)

	// The name that does not load is warned of once, not at every read.
	_, err = r.read(context.Background())
	require.NoError(t, err)
	warnings := logs.FilterMessageSnippet("cannot load").All()
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0].ContextMap()["error"], "Mars/Olympus_Mons")
}

// startObservedReader starts a reader of cfg whose warnings are kept.
func startObservedReader(t *testing.T, cfg *Config) (*ledgerReader, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.WarnLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	r, err := newLedgerReader(cfg, set)
	require.NoError(t, err)
	require.NoError(t, r.start(context.Background(), componenttest.NewNopHost()))
	return r, logs
}

func TestReadBeforeStart(t *testing.T) {
	r, err := newLedgerReader(createDefaultConfig().(*Config), receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	_, err = r.read(context.Background())
	require.ErrorIs(t, err, errNotStarted)
	require.NoError(t, r.shutdown(context.Background()))
	require.NoError(t, r.shutdown(context.Background()))
}

// TestReceiverSharesTheExportersLedger runs the receiver on a ledger file
// another component of the process holds open, as the exporter does, and
// checks that it emits the file's rows of the pinned months only.
func TestReceiverSharesTheExportersLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	commitRows(t, path, []ledger.Row{
		{Key: ledger.Key{Org: "acme", Connection: "support-bot", Month: "2026-11", Model: "gpt-4o"},
			Counters: ledger.Counters{Requests: 7, LastSeen: unixNano(2026, 11, 3, 10)}},
		{Key: ledger.Key{Org: "acme", Connection: "support-bot", Month: "2026-09", Model: "gpt-4o"},
			Counters: ledger.Counters{Requests: 99, LastSeen: unixNano(2026, 9, 3, 10)}},
	}, nil)

	exporterHandle, err := ledger.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, exporterHandle.Close()) }()

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	cfg.CollectionInterval = 10 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.PinnedMonths = []string{"2026-11", "2026-10"}
	sink := new(consumertest.MetricsSink)
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, rcv.Shutdown(context.Background()))

	got, _ := pointsOf(t, sink.AllMetrics()[0])
	require.Len(t, got["genai.connection.requests"], 1, "September is not a pinned month")
	p := got["genai.connection.requests"][0]
	assert.Equal(t, int64(7), p.intValue)
	assert.Equal(t, "2026-11", p.attrs["month"])
	assert.Equal(t, pcommon.NewTimestampFromTime(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)).AsTime(), p.start)

	// The exporter's handle still works once the receiver has closed its own.
	rows, err := exporterHandle.Rows(context.Background(), []string{"2026-09"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
}

// A receiver whose path names no ledger, as when it differs from the
// exporter's, fails at start saying so, and creates nothing there.
func TestStartRefusesAPathWithNoLedger(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "usage-ledger.db")
	r, err := newLedgerReader(cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	require.NoError(t, err)
	err = r.start(context.Background(), componenttest.NewNopHost())
	require.ErrorIs(t, err, ledger.ErrNoFile)
	assert.EqualError(t, err, `usageledger receiver: ledger file "`+cfg.Path+`": no ledger file at this path; `+
		`the receiver reads the file a usageledger exporter writes, so its path must be the exporter's `+
		`(the exporter creates the file when it starts)`)
	assert.NoFileExists(t, cfg.Path)
	require.NoError(t, r.shutdown(context.Background()))
}

// TestReadFailureIsCounted reads a ledger whose handle is closed, as after a
// failed disk, and expects the failure counted and no metrics.
func TestReadFailureIsCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()

	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "usage-ledger.db")
	written, err := ledger.Open(cfg.Path) // as the exporter creates it
	require.NoError(t, err)
	require.NoError(t, written.Close())
	r, err := newLedgerReader(cfg, metadatatest.NewSettings(tel))
	require.NoError(t, err)
	require.NoError(t, r.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, r.store.Close())

	md, err := r.read(context.Background())
	require.ErrorIs(t, err, ledger.ErrClosed)
	assert.Equal(t, 0, md.MetricCount())
	metadatatest.AssertEqualReceiverUsageledgerReadFailures(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	require.NoError(t, r.shutdown(context.Background()))
}

// connectionsSpy is a ledger that records which connections a read asks
// for, and refuses to list them all.
type connectionsSpy struct {
	ledger.Store
	asked [][]ledger.ConnectionID
}

var errEveryConnection = errors.New("every connection read")

func (s *connectionsSpy) Connections(context.Context) ([]ledger.Connection, error) {
	return nil, errEveryConnection
}

func (s *connectionsSpy) ConnectionsOf(ctx context.Context, ids []ledger.ConnectionID) ([]ledger.Connection, error) {
	s.asked = append(s.asked, slices.Clone(ids))
	return s.Store.ConnectionsOf(ctx, ids)
}

// TestReadAsksOnlyForConnectionsOfEmittedMonths checks that a read asks the
// ledger for the connections with rows in the emitted months, each once,
// and never for every connection it has seen, as the exporter does.
func TestReadAsksOnlyForConnectionsOfEmittedMonths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	bot := ledger.ConnectionID{Org: "acme", Connection: "support-bot"}
	search := ledger.ConnectionID{Org: "acme", Connection: "search"}
	retired := ledger.ConnectionID{Org: "acme", Connection: "retired"}
	never := ledger.ConnectionID{Org: "globex", Connection: "never-called"}
	rowOf := func(id ledger.ConnectionID, month, model string, lastSeen int64) ledger.Row {
		return ledger.Row{Key: ledger.Key{Org: id.Org, Connection: id.Connection, Month: month, Model: model},
			Counters: ledger.Counters{Requests: 1, LastSeen: lastSeen}}
	}
	commitRows(t, path, []ledger.Row{
		rowOf(bot, "2026-11", "gpt-4o", unixNano(2026, 11, 19, 17)),
		rowOf(search, "2026-11", "claude-sonnet-4", unixNano(2026, 11, 2, 8)),
		rowOf(search, "2026-10", "claude-sonnet-4", unixNano(2026, 10, 2, 8)),
		rowOf(search, "2026-10", "claude-haiku-4", unixNano(2026, 10, 3, 8)),
		rowOf(retired, "2025-01", "gpt-4", unixNano(2025, 1, 3, 0)),
	}, []ledger.Connection{
		{ConnectionID: bot, ConnectionInfo: ledger.CallInfo("care", "cc-17", unixNano(2026, 11, 19, 17))},
		{ConnectionID: search, ConnectionInfo: ledger.CallInfo("search", "cc-20", unixNano(2026, 11, 2, 8))},
		{ConnectionID: retired, ConnectionInfo: ledger.CallInfo("old", "", unixNano(2025, 1, 3, 0))},
		{ConnectionID: never, ConnectionInfo: ledger.CallInfo("g", "", unixNano(2024, 5, 1, 0))},
	})

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	r, err := newLedgerReader(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, r.start(context.Background(), nil))
	defer func() { require.NoError(t, r.shutdown(context.Background())) }()
	spy := &connectionsSpy{Store: r.store}
	r.store = spy
	// Two months back from November 20th: November and October.
	r.now = func() time.Time { return time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC) }

	md, err := r.read(context.Background())
	require.NoError(t, err)
	require.Len(t, spy.asked, 1)
	assert.ElementsMatch(t, []ledger.ConnectionID{bot, search}, spy.asked[0],
		"search once for its three rows; retired has no row in the months, never-called none at all")

	got, _ := pointsOf(t, md)
	infoOf := func(id ledger.ConnectionID, team, costCenter string) point {
		return point{attrs: map[string]any{"org": id.Org, "connection": id.Connection,
			"team": team, "cost_center": costCenter}, at: r.now(), intValue: 1}
	}
	// Sorted by org and connection: search before support-bot.
	assert.Equal(t, []point{infoOf(search, "search", "cc-20"), infoOf(bot, "care", "cc-17")},
		got["genai.connection.info"])
}

// TestStartWarnsOfBudgetsTheLedgerHasNoCallsOf starts the receiver on a
// ledger that has counted calls of acme's support-bot only, with budgets
// on it and on a misspelling of its organization, and expects one warning,
// naming the organization recorded.
func TestStartWarnsOfBudgetsTheLedgerHasNoCallsOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage-ledger.db")
	id := ledger.ConnectionID{Org: "acme", Connection: "support-bot"}
	commitRows(t, path, []ledger.Row{{Key: ledger.Key{Org: id.Org, Connection: id.Connection, Month: "2026-11", Model: "gpt-4o"},
		Counters: ledger.Counters{Requests: 1, LastSeen: unixNano(2026, 11, 3, 10)}}},
		[]ledger.Connection{{ConnectionID: id, ConnectionInfo: ledger.CallInfo("", "", unixNano(2026, 11, 3, 10))}})

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	cfg.Budgets.Connections = []budget.Connection{
		{Org: "acme", Connection: "support-bot", MonthlyUSD: "10"},
		{Org: "Acme", Connection: "support-bot", MonthlyUSD: "10"},
	}
	r, logs := startObservedReader(t, cfg)
	require.NoError(t, r.shutdown(context.Background()))

	require.Equal(t, 1, logs.Len(), "one budget names no recorded organization")
	entry := logs.All()[0]
	assert.Contains(t, entry.Message, "Budget names an organization of which the ledger has counted no call")
	assert.Equal(t, map[string]any{
		"budget": "budgets::connections[1]", "org": "Acme", "connection": "support-bot",
		"closest_recorded_organization": "acme",
	}, entry.ContextMap())
}
