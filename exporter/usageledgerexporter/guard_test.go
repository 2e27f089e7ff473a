package usageledgerexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

func TestGuardAdmit(t *testing.T) {
	g := newGuard(LimitsConfig{Organizations: 2, ConnectionsPerOrganization: 2}, []ledger.Connection{
		{ConnectionID: ledger.ConnectionID{Org: "acme", Connection: "a"}},
	})
	f := func(org, conn, wantOrg, wantConn string, wantOver bool) {
		t.Helper()
		gotOrg, gotConn, over := g.admit(org, conn)
		assert.Equal(t, [3]any{wantOrg, wantConn, wantOver}, [3]any{gotOrg, gotConn, over}, "%s/%s", org, conn)
	}
	f("acme", "a", "acme", "a", false) // known from the ledger
	f("acme", "b", "acme", "b", false) // second connection of acme
	f("acme", "c", "acme", overflow, true)
	f("acme", "a", "acme", "a", false) // admitted ones stay admitted
	f("beta", "x", "beta", "x", false) // second organization
	f("gamma", "x", overflow, overflow, true)
	f(overflow, "y", overflow, overflow, true)
	f("acme", overflow, "acme", overflow, true)
	f("beta", "y", "beta", "y", false)
	f("beta", "z", "beta", overflow, true)
}

func TestOverflowKeepsTotals(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits = LimitsConfig{Organizations: 1, ConnectionsPerOrganization: 1}
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
	metadatatest.AssertEqualExporterUsageledgerCallsOverflowed(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

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
