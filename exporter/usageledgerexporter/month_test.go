package usageledgerexporter

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/usage"
)

func TestExposedMonths(t *testing.T) {
	// One call in each of September, October and November 2026; the tests
	// run on 2026-11-15.
	spans := []span{
		{time.Date(2026, time.September, 30, 12, 0, 0, 0, time.UTC), call("acme", "bot/openai", "gpt-4o")},
		{time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC), call("acme", "bot/openai", "gpt-4o")},
		{nov10, call("acme", "bot/openai", "gpt-4o")},
	}

	tests := []struct {
		name   string
		months int
		pinned []string
		want   []string
	}{
		{name: "current and previous month by default", months: 2, want: []string{"2026-10", "2026-11"}},
		{name: "current month only", months: 1, want: []string{"2026-11"}},
		{name: "three months", months: 3, want: []string{"2026-09", "2026-10", "2026-11"}},
		{name: "pinned months win over months", months: 2, pinned: []string{"2026-09"}, want: []string{"2026-09"}},
		{name: "pinned months with no calls", months: 2, pinned: []string{"2025-01", "2026-11"}, want: []string{"2026-11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Months = tt.months
			cfg.PinnedMonths = tt.pinned
			r := start(t, cfg)
			r.consume(t, tracesOf(t, spans...))

			_, samples := r.scrape(t)
			var months []string
			for series, v := range samples {
				if !strings.HasPrefix(series, "genai_connection_requests_total{") {
					continue
				}
				assert.Equal(t, 1.0, v, series)
				_, month, ok := strings.Cut(series, "month=")
				require.True(t, ok, series)
				months = append(months, month[:7])
			}
			sort.Strings(months)
			assert.Equal(t, tt.want, months)
		})
	}
}

func TestLastMonths(t *testing.T) {
	f := func(now time.Time, n int, want ...string) {
		t.Helper()
		got := calendar{zone: time.UTC}.lastMonths(now, n)
		assert.Equal(t, want, got, "now %s, %d months", now, n)
	}
	f(time.Date(2026, time.November, 15, 0, 0, 0, 0, time.UTC), 2, "2026-11", "2026-10")
	// March 31st minus one month is February, not March 3rd.
	f(time.Date(2026, time.March, 31, 23, 0, 0, 0, time.UTC), 2, "2026-03", "2026-02")
	f(time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC), 3, "2027-01", "2026-12", "2026-11")
	// A time given in another zone counts in UTC: 2026-12-01T01:00+02:00 is
	// 2026-11-30T23:00Z.
	f(time.Date(2026, time.December, 1, 1, 0, 0, 0, time.FixedZone("EET", 2*3600)), 1, "2026-11")
}

func TestCostFloatView(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	// 3 calls: 36,000,000 + 36,000,000 + 1 pUSD = 72,000,001 pUSD = 7.2000001e-05 USD.
	r.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "c", "m"), usage.AttrCostPicoUSD, 36_000_000)},
		span{nov10, with(call("acme", "c", "m"), usage.AttrCostPicoUSD, 36_000_000)},
		span{nov10, with(call("acme", "c", "m"), usage.AttrCostPicoUSD, 1)},
	))
	text, samples := r.scrape(t)
	assert.Contains(t, text, `genai_connection_cost_usd_total{org="acme",connection="c",model="m",month="2026-11"} 7.2000001e-05`+"\n")
	assert.Equal(t, 7.2000001e-05, samples["genai_connection_cost_usd_total{connection=c,model=m,month=2026-11,org=acme}"])
}
