package usageledgerexporter

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

func TestGuardAdmit(t *testing.T) {
	g := newGuard(LimitsConfig{Organizations: 2, ConnectionsPerOrganization: 2, ModelsPerConnection: 2},
		[]ledger.Connection{{ConnectionID: ledger.ConnectionID{Org: "acme", Connection: "a"}}},
		[]ledger.Row{
			{Key: ledger.Key{Org: "acme", Connection: "a", Month: "2026-11", Model: "m1"}},
			{Key: ledger.Key{Org: "acme", Connection: "a", Month: "2026-10", Model: "m1"}},
		})
	f := func(org, conn, model string, want placement) {
		t.Helper()
		assert.Equal(t, want, g.admit(org, conn, model), "%s/%s/%s", org, conn, model)
	}
	f("acme", "a", "m1", placement{"acme", "a", "m1", ""}) // known from the ledger, once
	f("acme", "b", "m1", placement{"acme", "b", "m1", ""}) // second connection of acme
	f("acme", "c", "m1", placement{"acme", overflow, "m1", limitConnections})
	f("acme", "a", "m1", placement{"acme", "a", "m1", ""}) // admitted ones stay admitted
	f("beta", "x", "m1", placement{"beta", "x", "m1", ""}) // second organization
	f("gamma", "x", "m1", placement{overflow, overflow, "m1", limitOrganizations})
	f("beta", "y", "m1", placement{"beta", "y", "m1", ""})
	f("beta", "z", "m1", placement{"beta", overflow, "m1", limitConnections})

	// Two models per connection: the third goes to model _overflow.
	f("acme", "a", "m2", placement{"acme", "a", "m2", ""})
	f("acme", "a", "m3", placement{"acme", "a", overflow, limitModels})
	f("acme", "a", "m2", placement{"acme", "a", "m2", ""})
	f("acme", "b", "m3", placement{"acme", "b", "m3", ""}) // per connection
	// An overflow bucket is bounded too; its limit is the first one hit.
	f("acme", "d", "m2", placement{"acme", overflow, "m2", limitConnections})
	f("acme", "e", "m3", placement{"acme", overflow, overflow, limitConnections})
	f("delta", "x", "m3", placement{overflow, overflow, "m3", limitOrganizations})
	// A real name that was the overflow name has been through realName.
	f(realName(overflow), "y", "m1", placement{overflow, overflow, "m1", limitOrganizations})
	f("acme", realName(overflow), "m1", placement{"acme", overflow, "m1", limitConnections})
	f("acme", "a", realName(overflow), placement{"acme", "a", overflow, limitModels})
	f("beta", "x", realName(overflow), placement{"beta", "x", overflow + "_", ""})
}

func TestOverflowKeepsTotals(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits = LimitsConfig{Organizations: 1, ConnectionsPerOrganization: 1, ModelsPerConnection: 100}
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	r.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "a", "m"), usage.AttrInputTokens, 1)},
		span{nov10, with(call("acme", "b", "m"), usage.AttrInputTokens, 2)},
		span{nov10, with(call("acme", "c", "m"), usage.AttrInputTokens, 4)},
		span{nov10, with(call("beta", "x", "m"), usage.AttrInputTokens, 8)},
	))

	// acme/a has its own row; acme's b and c share acme/_overflow (2 + 4
	// tokens); beta is past the organization limit. 4 requests and 15
	// tokens in all, as sent.
	rows := r.rows(t, "2026-11")
	tokens := func(org, conn string) uint64 {
		return rows[ledger.Key{Org: org, Connection: conn, Month: "2026-11", Model: "m"}].InputTokens
	}
	assert.Len(t, rows, 3)
	assert.Equal(t, uint64(1), tokens("acme", "a"))
	assert.Equal(t, uint64(6), tokens("acme", overflow))
	assert.Equal(t, uint64(8), tokens(overflow, overflow))
	// b and c past the connection limit, beta past the organization limit.
	metadatatest.AssertEqualExporterUsageledgerCallsOverflowed(t, r.telemetry,
		[]metricdata.DataPoint[int64]{
			{Value: 1, Attributes: attribute.NewSet(attribute.String("limit", limitOrganizations))},
			{Value: 2, Attributes: attribute.NewSet(attribute.String("limit", limitConnections))},
		}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	_, samples := r.scrape(t)
	assert.Equal(t, 2.0, samples["genai_connection_requests_total{connection=_overflow,model=m,month=2026-11,org=acme}"])
	assert.Equal(t, 1.0, samples["genai_connection_requests_total{connection=_overflow,model=m,month=2026-11,org=_overflow}"])

	// After a restart the same names are in and out.
	require.NoError(t, r.traces.Shutdown(context.Background()))
	again := start(t, cfg)
	again.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "a", "m"), usage.AttrInputTokens, 16)},
		span{nov10, with(call("acme", "d", "m"), usage.AttrInputTokens, 32)},
	))
	rows = again.rows(t, "2026-11")
	assert.Equal(t, uint64(1+16), tokens("acme", "a"))
	assert.Equal(t, uint64(6+32), tokens("acme", overflow))
}

func TestOrganizationTimeZones(t *testing.T) {
	cfg := testConfig(t)
	cfg.Organizations = map[string]OrganizationConfig{"acme": {TimeZone: "Asia/Shanghai"}}
	r := start(t, cfg)
	r.inner.now = func() time.Time { return time.Date(2025, time.February, 1, 0, 0, 0, 0, time.UTC) }

	end := time.Date(2025, time.January, 31, 16, 30, 0, 0, time.UTC)
	r.consume(t, tracesOf(t,
		span{end, call("acme", "bot", "m")},
		span{end, call("beta", "bot", "m")},
	))
	rows := r.rows(t, "2025-01", "2025-02")
	assert.Equal(t, map[ledger.Key]ledger.Counters{
		// 00:30 on February 1st in Shanghai.
		{Org: "acme", Connection: "bot", Month: "2025-02", Model: "m"}: {
			Requests: 1, FirstSeen: end.UnixNano(), LastSeen: end.UnixNano()},
		// Still January in UTC.
		{Org: "beta", Connection: "bot", Month: "2025-01", Model: "m"}: {
			Requests: 1, FirstSeen: end.UnixNano(), LastSeen: end.UnixNano()},
	}, rows)
	require.NoError(t, r.traces.Shutdown(context.Background()))

	// Moving acme to UTC leaves February as booked, in the zone it was
	// booked in; a new call at the same instant now goes to January, in UTC.
	cfg.Organizations = nil
	again := start(t, cfg)
	again.inner.now = r.inner.now
	again.consume(t, tracesOf(t, span{end, call("acme", "bot", "m")}))
	rows = again.rows(t, "2025-01", "2025-02")
	assert.Equal(t, uint64(1), rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2025-02", Model: "m"}].Requests)
	assert.Equal(t, uint64(1), rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2025-01", Model: "m"}].Requests)
	zones, err := again.inner.ledger().Zones(context.Background(), []string{"2025-01", "2025-02"})
	require.NoError(t, err)
	assert.Equal(t, map[ledger.OrgMonth]string{
		{Org: "acme", Month: "2025-02"}: "Asia/Shanghai",
		{Org: "acme", Month: "2025-01"}: "UTC",
		{Org: "beta", Month: "2025-01"}: "UTC",
	}, zones)
}

func TestFutureSpansBookedAtArrival(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)
	r.consume(t, tracesOf(t,
		span{arrival.Add(4 * time.Minute), call("acme", "bot", "m")}, // within the 5m skew
		span{arrival.Add(6 * time.Minute), call("acme", "bot", "m")}, // beyond it
		span{arrival.AddDate(0, 2, 0), call("acme", "bot", "m")},     // two months ahead
		span{time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC), call("acme", "bot", "m")},
	))
	got := r.rows(t, "2026-11", "2027-01")
	k := ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: "m"}
	require.Len(t, got, 1, "nothing booked in January 2027")
	assert.Equal(t, uint64(4), got[k].Requests)
	assert.Equal(t, arrival.Add(4*time.Minute).UnixNano(), got[k].LastSeen)
	metadatatest.AssertEqualExporterUsageledgerCallsDatedInFuture(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterUsageledgerCallsBookedAtArrival(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// A call the processor priced at the moment it saw it, because its span
// ends 40 days ahead, is booked at that moment: in November, where it was
// priced, although it reaches the exporter after midnight. A value the
// processor cannot have written is malformed and leaves the call booked at
// its arrival; so does one from a processor whose clock runs an hour
// ahead, without being malformed.
func TestPricedAtBooksTheCall(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)
	midnight := time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)
	r.inner.now = func() time.Time { return midnight.Add(30 * time.Second) }
	seen := midnight.Add(-10 * time.Second)
	ahead := midnight.AddDate(0, 0, 40)
	r.consume(t, tracesOf(t,
		span{ahead, with(call("acme", "bot", "m"), usage.AttrPricedAt, seen.UnixNano())},
		span{ahead, with(call("acme", "bot", "m"), usage.AttrPricedAt, "yesterday")},
		span{ahead, with(call("acme", "bot", "m"), usage.AttrPricedAt, midnight.Add(time.Hour).UnixNano())},
	))
	got := r.rows(t, "2026-11", "2026-12", "2027-01")
	nov := ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: "m"}
	dec := ledger.Key{Org: "acme", Connection: "bot", Month: "2026-12", Model: "m"}
	require.Len(t, got, 2, "nothing booked in January 2027")
	assert.Equal(t, uint64(1), got[nov].Requests)
	assert.Equal(t, seen.UnixNano(), got[nov].LastSeen)
	assert.Equal(t, uint64(2), got[dec].Requests)
	assert.Equal(t, midnight.Add(30*time.Second).UnixNano(), got[dec].LastSeen)
	metadatatest.AssertEqualExporterUsageledgerMalformedSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterUsageledgerCallsDatedInFuture(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestCallWithoutTeamKeepsLabels(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	r.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "bot", "m"), usage.AttrTeam, "support", usage.AttrCostCenter, "cc-1")}))
	// A later call with no labels, and one with a team only.
	r.consume(t, tracesOf(t, span{nov10.Add(time.Minute), call("acme", "bot", "m")}))
	_, samples := r.scrape(t)
	assert.Equal(t, []string{"genai_connection_info{connection=bot,cost_center=cc-1,org=acme,team=support}"},
		infoSeries(samples))

	r.consume(t, tracesOf(t, span{nov10.Add(2 * time.Minute), with(call("acme", "bot", "m"), usage.AttrTeam, "sales")}))
	_, samples = r.scrape(t)
	assert.Equal(t, []string{"genai_connection_info{connection=bot,cost_center=cc-1,org=acme,team=sales}"},
		infoSeries(samples))
}

// TestModelLimitThroughExporter sends 2,000 calls of one connection, each
// with a model of its own, as a client that puts a request id into the
// model name does.
func TestModelLimitThroughExporter(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	var spans []span
	for i := range 2000 {
		spans = append(spans, span{nov10, with(call("acme", "bot", fmt.Sprintf("model-%d", i)),
			usage.AttrInputTokens, 1)})
	}
	r.consume(t, tracesOf(t, spans...))

	// The first 100 models (the default limit) have rows of their own; the
	// other 1,900 calls share model _overflow. 2,000 requests and tokens
	// in all, as sent.
	rows := r.rows(t, "2026-11")
	assert.Len(t, rows, 101)
	var requests, tokens uint64
	for _, c := range rows {
		requests += c.Requests
		tokens += c.InputTokens
	}
	assert.Equal(t, [2]uint64{2000, 2000}, [2]uint64{requests, tokens})
	over := rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: overflow}]
	assert.Equal(t, uint64(1900), over.Requests)
	assert.Equal(t, uint64(1), rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: "model-99"}].Requests)
	metadatatest.AssertEqualExporterUsageledgerCallsOverflowed(t, r.telemetry,
		[]metricdata.DataPoint[int64]{
			{Value: 1900, Attributes: attribute.NewSet(attribute.String("limit", limitModels))},
		}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// After a restart the same 100 models are in: model-0 keeps its row,
	// a new model goes to _overflow.
	require.NoError(t, r.traces.Shutdown(context.Background()))
	again := start(t, cfg)
	again.consume(t, tracesOf(t,
		span{nov10, call("acme", "bot", "model-0")},
		span{nov10, call("acme", "bot", "model-5000")},
	))
	rows = again.rows(t, "2026-11")
	assert.Len(t, rows, 101)
	assert.Equal(t, uint64(2), rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: "model-0"}].Requests)
	assert.Equal(t, uint64(1901), rows[ledger.Key{Org: "acme", Connection: "bot", Month: "2026-11", Model: overflow}].Requests)
}

// TestReservedNamesStayApart sends calls of an organization, a connection
// and a model literally named _overflow (and _overflow_) while the limits
// also book calls to the overflow buckets: the real names keep rows of
// their own.
func TestReservedNamesStayApart(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	cfg.Limits = LimitsConfig{Organizations: 3, ConnectionsPerOrganization: 2, ModelsPerConnection: 100}
	r := start(t, cfg)

	r.consume(t, tracesOf(t,
		span{nov10, call(overflow, "bot", "m")},     // a tenant named _overflow
		span{nov10, call(overflow+"_", "bot", "m")}, // and one named _overflow_
		span{nov10, call("acme", overflow, "m")},    // a connection named _overflow
		span{nov10, call("acme", "b", "m")},         // acme's second connection
		span{nov10, call("acme", "c", "m")},         // past the limit: acme/_overflow
		span{nov10, call("acme", "b", overflow)},    // a model named _overflow
		span{nov10, call("globex", "bot", "m")},     // past the organization limit
	))

	key := func(org, conn, model string) ledger.Key {
		return ledger.Key{Org: org, Connection: conn, Month: "2026-11", Model: model}
	}
	requests := make(map[ledger.Key]uint64)
	for k, c := range r.rows(t, "2026-11") {
		requests[k] = c.Requests
	}
	assert.Equal(t, map[ledger.Key]uint64{
		key("_overflow_", "bot", "m"):  1,
		key("_overflow__", "bot", "m"): 1,
		key("acme", "_overflow_", "m"): 1,
		key("acme", "b", "m"):          1,
		key("acme", overflow, "m"):     1,
		key("acme", "b", "_overflow_"): 1,
		key(overflow, overflow, "m"):   1,
	}, requests)
}

// The guard copies the names it admits: the rows read at start cut their
// names from blocks shared with other text, and a guard holding those
// strings would keep the blocks alive for the life of the process.
func TestGuardKeepsNoTextOfItsCallers(t *testing.T) {
	text := make([]byte, 1<<20)
	cut := func(off int, s string) string {
		n := copy(text[off:], s)
		return unsafe.String(&text[off], n)
	}
	alive := weak.Make(&text[0])
	known := []ledger.Connection{{ConnectionID: ledger.ConnectionID{Org: cut(0, "acme"), Connection: cut(10, "bot-a")}}}
	rows := []ledger.Row{{Key: ledger.Key{Org: cut(20, "acme"), Connection: cut(30, "bot-b"), Month: cut(40, "2026-11"), Model: cut(50, "m1")}}}
	g := newGuard(LimitsConfig{Organizations: 10, ConnectionsPerOrganization: 10, ModelsPerConnection: 10}, known, rows)
	// Names admitted later, and an existing connection given a new model.
	g.admit(cut(60, "beta"), cut(70, "bot-c"), cut(80, "m2"))
	g.admit(cut(90, "acme"), cut(100, "bot-a"), cut(110, "m3"))
	text, known, rows = nil, nil, nil

	runtime.GC()
	runtime.GC()
	assert.Nil(t, alive.Value(), "the guard keeps the callers' text alive")
	assert.Equal(t, placement{"acme", "bot-b", "m1", ""}, g.admit("acme", "bot-b", "m1"))
	assert.Equal(t, placement{"acme", "bot-a", "m3", ""}, g.admit("acme", "bot-a", "m3"))
	assert.Equal(t, placement{"beta", "bot-c", "m2", ""}, g.admit("beta", "bot-c", "m2"))
}

// BenchmarkGuardHeap reports the heap a guard takes for 100,000
// connections of 100 organizations with one model each, as it is built at
// start from the ledger's rows.
func BenchmarkGuardHeap(b *testing.B) {
	const conns = 100_000
	rows := make([]ledger.Row, conns)
	for i := range rows {
		rows[i].Key = ledger.Key{Org: fmt.Sprintf("org-%d", i%100), Connection: fmt.Sprintf("agent-%06d/openai", i),
			Month: "2026-11", Model: []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4"}[i%3]}
	}
	limits := LimitsConfig{Organizations: 1000, ConnectionsPerOrganization: 10_000, ModelsPerConnection: 100}
	var before, after runtime.MemStats
	var g *guard
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		g = newGuard(limits, nil, rows)
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	runtime.KeepAlive(g)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/conns, "heap-bytes/connection")
}
