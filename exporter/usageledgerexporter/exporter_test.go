package usageledgerexporter

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// arrival is the fixed "now" of the tests: mid-November 2026, UTC.
var arrival = time.Date(2026, time.November, 15, 12, 0, 0, 0, time.UTC)

// running is an exporter started on a ledger file in a temporary directory,
// serving on a free local port.
type running struct {
	traces    exporter.Traces
	inner     *ledgerExporter
	telemetry *componenttest.Telemetry
}

func testConfig(t *testing.T) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "usage-ledger.db")
	cfg.Metrics.NetAddr.Endpoint = "localhost:0"
	cfg.RetryConfig.Enabled = false
	return cfg
}

func start(t *testing.T, cfg *Config) *running {
	t.Helper()
	return startWith(t, cfg, nil)
}

// startObserved is start with the exporter's log lines of level info and
// above kept.
func startObserved(t *testing.T, cfg *Config) (*running, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	return startWith(t, cfg, zap.New(core)), logs
}

// startWith is start with logger, when not nil, as the exporter's logger.
func startWith(t *testing.T, cfg *Config, logger *zap.Logger) *running {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	if logger != nil {
		set.Logger = logger
	}

	e, err := newLedgerExporter(cfg, set)
	require.NoError(t, err)
	e.now = func() time.Time { return arrival }
	traces, err := newTraces(context.Background(), set, e)
	require.NoError(t, err)
	require.NoError(t, traces.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, traces.Shutdown(context.Background())) })
	return &running{traces: traces, inner: e, telemetry: tel}
}

func (r *running) consume(t *testing.T, td ptrace.Traces) {
	t.Helper()
	require.NoError(t, r.traces.ConsumeTraces(context.Background(), td))
}

// scrape fetches /metrics, checks that the whole text parses as the
// Prometheus text format, and returns the text and every sample by series.
func (r *running) scrape(t *testing.T) (string, map[string]float64) {
	t.Helper()
	resp, err := http.Get("http://" + r.inner.addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err, "exposition:\n%s", body)

	samples := make(map[string]float64)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			series := name + "{" + strings.Join(labels, ",") + "}"
			_, dup := samples[series]
			require.False(t, dup, "series %s appears twice", series)
			switch {
			case m.GetCounter() != nil:
				samples[series] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				samples[series] = m.GetGauge().GetValue()
			default:
				t.Fatalf("series %s is neither counter nor gauge", series)
			}
		}
	}
	return string(body), samples
}

// rows reads the ledger file of r for months.
func (r *running) rows(t *testing.T, months ...string) map[ledger.Key]ledger.Counters {
	t.Helper()
	rows, err := r.inner.ledger().Rows(context.Background(), months)
	require.NoError(t, err)
	out := make(map[ledger.Key]ledger.Counters)
	for _, row := range rows {
		out[row.Key] = row.Counters
	}
	return out
}

// call is the attribute set the processor writes on a counted span.
func call(org, connection, model string) map[string]any {
	return map[string]any{
		usage.AttrCounted:    true,
		usage.AttrOrg:        org,
		usage.AttrConnection: connection,
		usage.AttrModel:      model,
		usage.AttrOutcome:    string(usage.OutcomeOK),
	}
}

// with returns a copy of attrs with more attributes set.
func with(attrs map[string]any, more ...any) map[string]any {
	out := make(map[string]any, len(attrs)+len(more)/2)
	for k, v := range attrs {
		out[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i].(string)] = more[i+1]
	}
	return out
}

// span is one span ending at end with attrs.
type span struct {
	end   time.Time
	attrs map[string]any
}

func tracesOf(t *testing.T, spans ...span) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, s := range spans {
		sp := ss.AppendEmpty()
		sp.SetName("chat")
		if !s.end.IsZero() {
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.end.Add(-time.Second)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.end))
		}
		require.NoError(t, sp.Attributes().FromRaw(s.attrs))
	}
	return td
}

// nov10 is a call time inside the current month of the tests.
var nov10 = time.Date(2026, time.November, 10, 9, 30, 0, 0, time.UTC)

func TestRestartKeepsCounts(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}

	first := start(t, cfg)
	first.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrInputTokens, 120, usage.AttrCostPicoUSD, 36_000_000)},
		span{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, "blocked")},
	))
	before, samples := first.scrape(t)
	assert.Equal(t, 2.0, samples[`genai_connection_requests_total{connection=bot/openai,model=gpt-4o,month=2026-11,org=acme}`])
	require.NoError(t, first.traces.Shutdown(context.Background()))

	second := start(t, cfg)
	after, _ := second.scrape(t)
	assert.Equal(t, before, after)

	// Counting goes on from the stored totals: 2 + 1 = 3 requests.
	second.consume(t, tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")}))
	_, samples = second.scrape(t)
	assert.Equal(t, 3.0, samples[`genai_connection_requests_total{connection=bot/openai,model=gpt-4o,month=2026-11,org=acme}`])
}

func TestCommitFailureIsRetryableAndWritesNothing(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)
	r.consume(t, tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")}))

	// The ledger handle closes underneath the exporter.
	require.NoError(t, r.inner.ledger().Close())
	err := r.traces.ConsumeTraces(context.Background(), tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")}))
	require.ErrorIs(t, err, ledger.ErrClosed)
	assert.False(t, consumererror.IsPermanent(err), "a commit failure must be retried")

	metadatatest.AssertEqualExporterUsageledgerCommitFailures(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterUsageledgerCommits(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Only the first call is in the file.
	s, err := ledger.Open(cfg.Path)
	require.NoError(t, err)
	defer s.Close()
	rows, err := s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, uint64(1), rows[0].Requests)
}

func TestConsumeBeforeStart(t *testing.T) {
	cfg := testConfig(t)
	e, err := newLedgerExporter(cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	require.NoError(t, err)
	err = e.consumeTraces(context.Background(), tracesOf(t, span{nov10, call("acme", "c", "m")}))
	require.ErrorIs(t, err, errNotStarted)
	require.NoError(t, e.shutdown(context.Background()))
	require.NoError(t, e.shutdown(context.Background()), "a second shutdown is harmless")
}

func TestShutdownTwice(t *testing.T) {
	r := start(t, testConfig(t))
	require.NoError(t, r.traces.Shutdown(context.Background()))
	require.NoError(t, r.traces.Shutdown(context.Background()))
}

func TestStartFailsOnBusyEndpoint(t *testing.T) {
	first := start(t, testConfig(t))

	cfg := testConfig(t)
	cfg.Metrics.NetAddr.Endpoint = first.inner.addr
	e, err := newLedgerExporter(cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	require.NoError(t, err)
	err = e.start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "usageledger exporter: metrics server")
	assert.Nil(t, e.ledger(), "a failed start leaves the ledger closed")
	require.NoError(t, e.shutdown(context.Background()))
}

// startAndStop starts an exporter of cfg and shuts it down, and returns it
// with what it logged at level and above.
func startAndStop(t *testing.T, cfg *Config, level zapcore.Level) (*ledgerExporter, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(level)
	set := metadatatest.NewSettings(componenttest.NewTelemetry())
	set.Logger = zap.New(core)
	e, err := newLedgerExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.shutdown(context.Background()))
	return e, logs
}

func TestStartLogsSettings(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // no note on one processor
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	e, logs := startAndStop(t, cfg, zap.InfoLevel)

	opened := logs.FilterMessage("Opened the usage ledger").All()
	require.Len(t, opened, 1)
	assert.Equal(t, cfg.Path, opened[0].ContextMap()["path"])
	assert.Equal(t, int64(0), opened[0].ContextMap()["dedup_keys"], "a new ledger")
	entries := logs.FilterMessage("Usage ledger exporter started").All()
	require.Len(t, entries, 1)
	require.Equal(t, 2, logs.Len(), "nothing else is logged at info")
	fields := entries[0].ContextMap()
	assert.Equal(t, cfg.Path, fields["path"])
	assert.Equal(t, e.addr, fields["endpoint"])
	assert.Equal(t, int64(2), fields["months"])
	assert.Equal(t, []any{"2026-11"}, fields["pinned_months"])
}

// A future_skew below the processor's 5 minutes is warned of at start; 5
// minutes is not.
func TestStartWarnsOfAShortSkew(t *testing.T) {
	const warning = "future_skew is shorter than the 5m after which the genaiusage processor prices a call " +
		"at the moment it sees it: a call ending between the two after it arrives is priced at its end " +
		"and booked at its arrival. Set future_skew to 5m or more"
	cfg := testConfig(t)
	cfg.FutureSkew = time.Minute
	_, logs := startAndStop(t, cfg, zap.WarnLevel)
	warned := logs.FilterMessage(warning).All()
	require.Len(t, warned, 1)
	assert.Equal(t, time.Minute, warned[0].ContextMap()["future_skew"])

	cfg = testConfig(t)
	cfg.FutureSkew = 5 * time.Minute
	_, logs = startAndStop(t, cfg, zap.WarnLevel)
	assert.Zero(t, logs.FilterMessage(warning).Len())
}

// With GOMAXPROCS=1 the first exporter to start notes it, once per
// process; with 2 none does.
func TestStartNotesOneProcessor(t *testing.T) {
	const note = "GOMAXPROCS is 1: while the usage ledger waits for its disk to sync a commit, " +
		"the Go runtime lets that thread keep its only P, the right to run Go code, so for most of " +
		"each wait no other export is received, processed or counted. Set GOMAXPROCS=2, even on " +
		"one CPU core, to use that time"
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer oneProcessorNoted.Store(oneProcessorNoted.Load())
	oneProcessorNoted.Store(false)
	_, logs := startAndStop(t, testConfig(t), zap.InfoLevel)
	notes := logs.FilterMessage(note).All()
	require.Len(t, notes, 1, "one note at start with GOMAXPROCS=1")
	assert.Equal(t, zap.InfoLevel, notes[0].Level)
	assert.Equal(t, int64(1), notes[0].ContextMap()["gomaxprocs"])

	_, logs = startAndStop(t, testConfig(t), zap.InfoLevel)
	assert.Zero(t, logs.FilterMessage(note).Len(), "a second exporter, or a reload, notes nothing more")

	oneProcessorNoted.Store(false)
	runtime.GOMAXPROCS(2)
	_, logs = startAndStop(t, testConfig(t), zap.InfoLevel)
	assert.Zero(t, logs.FilterMessage(note).Len(), "no note with two")
}

func TestMetricsRejectsOtherMethods(t *testing.T) {
	r := start(t, testConfig(t))
	resp, err := http.Post("http://"+r.inner.addr+"/metrics", "text/plain", strings.NewReader(""))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
}
