package usageledgerexporter

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

func TestConsumeCounts(t *testing.T) {
	// Unix nanoseconds of the call times used below.
	nov11 := nov10.Add(24 * time.Hour)
	nov10ns, nov11ns := nov10.UnixNano(), nov11.UnixNano()
	arrivalNs := arrival.UnixNano()
	gpt := ledger.Key{Org: "acme", Connection: "bot/openai", Month: "2026-11", Model: "gpt-4o"}
	mini := gpt
	mini.Model = "gpt-4o-mini"

	tests := []struct {
		name          string
		spans         []span
		want          map[ledger.Key]ledger.Counters
		wantCalls     int64
		wantMalformed int64
		wantAtArrival int64
	}{
		{
			name: "one priced call with every token type",
			spans: []span{{nov10, with(call("acme", "bot/openai", "gpt-4o"),
				usage.AttrInputTokens, 1200, usage.AttrOutputTokens, 300,
				usage.AttrCacheReadTokens, 200, usage.AttrCacheWriteTokens, 100,
				usage.AttrReasoningTokens, 50, usage.AttrCostPicoUSD, 36_000_000)}},
			want: map[ledger.Key]ledger.Counters{gpt: {
				Requests: 1, InputTokens: 1200, OutputTokens: 300, CacheReadTokens: 200,
				CacheWriteTokens: 100, ReasoningTokens: 50, Cost: ledger.PicoUSD(36_000_000),
				FirstSeen: nov10ns, LastSeen: nov10ns,
			}},
			wantCalls: 1,
		},
		{
			name: "every outcome is a request",
			spans: []span{
				{nov10, call("acme", "bot/openai", "gpt-4o")},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrFiltered, true)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, "blocked")},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, "rate_limited")},
				{nov11, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, "error")},
			},
			// 5 requests: 2 ok (one of them filtered), 1 blocked, 1 rate-limited, 1 error.
			want: map[ledger.Key]ledger.Counters{gpt: {
				Requests: 5, Filtered: 1, Blocked: 1, RateLimited: 1, Errors: 1,
				FirstSeen: nov10ns, LastSeen: nov11ns,
			}},
			wantCalls: 5,
		},
		{
			name: "unpriced and usage missing",
			spans: []span{
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrUnpriced, true, usage.AttrInputTokens, 10)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrUsageMissing, true,
					usage.AttrUnpriced, false)},
			},
			want: map[ledger.Key]ledger.Counters{gpt: {
				Requests: 2, Unpriced: 1, UsageMissing: 1, InputTokens: 10,
				FirstSeen: nov10ns, LastSeen: nov10ns,
			}},
			wantCalls: 2,
		},
		{
			name: "spans without the counted marker are ignored",
			spans: []span{
				{nov10, map[string]any{usage.AttrOrg: "acme", usage.AttrInputTokens: 5}},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrCounted, false)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrCounted, "true")},
			},
			want: map[ledger.Key]ledger.Counters{},
		},
		{
			name: "models and months stay apart",
			spans: []span{
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrInputTokens, 1)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o-mini"), usage.AttrInputTokens, 2)},
				// 2026-10-31T23:59:59Z is still October in UTC.
				{time.Date(2026, time.October, 31, 23, 59, 59, 0, time.UTC),
					with(call("acme", "bot/openai", "gpt-4o"), usage.AttrInputTokens, 4)},
			},
			want: map[ledger.Key]ledger.Counters{
				gpt:  {Requests: 1, InputTokens: 1, FirstSeen: nov10ns, LastSeen: nov10ns},
				mini: {Requests: 1, InputTokens: 2, FirstSeen: nov10ns, LastSeen: nov10ns},
				{Org: "acme", Connection: "bot/openai", Month: "2026-10", Model: "gpt-4o"}: {
					Requests: 1, InputTokens: 4,
					FirstSeen: time.Date(2026, time.October, 31, 23, 59, 59, 0, time.UTC).UnixNano(),
					LastSeen:  time.Date(2026, time.October, 31, 23, 59, 59, 0, time.UTC).UnixNano(),
				},
			},
			wantCalls: 3,
		},
		{
			name: "no end time or one before 2000 is booked at arrival",
			spans: []span{
				{time.Time{}, call("acme", "bot/openai", "gpt-4o")},
				{time.Date(1999, time.December, 31, 0, 0, 0, 0, time.UTC), call("acme", "bot/openai", "gpt-4o")},
			},
			want: map[ledger.Key]ledger.Counters{gpt: {
				Requests: 2, FirstSeen: arrivalNs, LastSeen: arrivalNs,
			}},
			wantCalls:     2,
			wantAtArrival: 2,
		},
		{
			name: "wrongly typed attributes read as absent and the call still counts",
			spans: []span{
				{nov10, with(call("acme", "bot/openai", "gpt-4o"),
					usage.AttrInputTokens, "1200", usage.AttrCostPicoUSD, 3.6e7)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutputTokens, -5)},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, "exploded")},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOutcome, 3,
					usage.AttrUnpriced, "yes")},
				{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrOrg, 42,
					usage.AttrReasoningTokens, 7)},
			},
			// Four calls on the connection, none with a readable outcome other
			// than ok, and one whose organization reads as empty.
			want: map[ledger.Key]ledger.Counters{
				gpt: {Requests: 4, FirstSeen: nov10ns, LastSeen: nov10ns},
				{Connection: "bot/openai", Month: "2026-11", Model: "gpt-4o"}: {
					Requests: 1, ReasoningTokens: 7, FirstSeen: nov10ns, LastSeen: nov10ns,
				},
			},
			wantCalls:     5,
			wantMalformed: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			r := start(t, cfg)
			r.consume(t, tracesOf(t, tt.spans...))

			assert.Equal(t, tt.want, r.rows(t, "2026-10", "2026-11"))

			_, samples := r.scrape(t)
			var requests float64
			for series, v := range samples {
				if strings.HasPrefix(series, "genai_connection_requests_total{") {
					requests += v
				}
			}
			assert.Equal(t, float64(tt.wantCalls), requests, "exposed requests of the current two months")

			if tt.wantCalls > 0 {
				metadatatest.AssertEqualExporterUsageledgerCalls(t, r.telemetry,
					[]metricdata.DataPoint[int64]{{Value: tt.wantCalls}},
					metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
				metadatatest.AssertEqualExporterUsageledgerCommits(t, r.telemetry,
					[]metricdata.DataPoint[int64]{{Value: 1}},
					metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
			}
			if tt.wantAtArrival > 0 {
				metadatatest.AssertEqualExporterUsageledgerCallsBookedAtArrival(t, r.telemetry,
					[]metricdata.DataPoint[int64]{{Value: tt.wantAtArrival}},
					metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
			}
			if tt.wantMalformed > 0 {
				metadatatest.AssertEqualExporterUsageledgerMalformedSpans(t, r.telemetry,
					[]metricdata.DataPoint[int64]{{Value: tt.wantMalformed}},
					metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
			}
		})
	}
}

func TestConnectionLabelsLatestCallWins(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	// The later call (09:31) carries team b, whatever the order in the batch.
	r.consume(t, tracesOf(t,
		span{nov10.Add(time.Minute), with(call("acme", "bot/openai", "gpt-4o"), usage.AttrTeam, "b")},
		span{nov10, with(call("acme", "bot/openai", "gpt-4o"), usage.AttrTeam, "a")},
	))
	// A late call from October does not bring team a back.
	r.consume(t, tracesOf(t,
		span{time.Date(2026, time.October, 2, 0, 0, 0, 0, time.UTC),
			with(call("acme", "bot/openai", "gpt-4o"), usage.AttrTeam, "a")},
	))

	_, samples := r.scrape(t)
	assert.Contains(t, samples, "genai_connection_info{connection=bot/openai,cost_center=,org=acme,team=b}")
	assert.Len(t, infoSeries(samples), 1)
}

func infoSeries(samples map[string]float64) []string {
	var out []string
	for s := range samples {
		if strings.HasPrefix(s, "genai_connection_info{") {
			out = append(out, s)
		}
	}
	return out
}
