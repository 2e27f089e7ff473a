package usageledgerexporter

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/usage"

	"github.com/usageledger/usageledger/internal/calendar"
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
		got := calendar.Of(time.UTC, nil).LastMonths(now, n)
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

func TestCalendarMonth(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Organizations = map[string]OrganizationConfig{
		"shanghai": {TimeZone: "Asia/Shanghai"},
		"newyork":  {TimeZone: "America/New_York"},
		"berlin":   {TimeZone: "Europe/Berlin"},
		"auckland": {TimeZone: "Pacific/Auckland"},
		"utc":      {},
	}
	cal, err := newLedgerCalendar(cfg)
	require.NoError(t, err)

	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm
	}
	f := func(org, end, want string) {
		t.Helper()
		assert.Equal(t, want, cal.Month(org, utc(end)), "%s at %s", org, end)
	}

	// Shanghai is UTC+8 all year: 16:30Z on the 31st is 00:30 on February 1st.
	f("shanghai", "2025-01-31T16:30:00Z", "2025-02")
	f("shanghai", "2025-01-31T15:59:59.999999999Z", "2025-01")
	f("shanghai", "2025-01-31T16:00:00Z", "2025-02")
	f("utc", "2025-01-31T16:30:00Z", "2025-01")
	f("no-zone-configured", "2025-01-31T23:59:59Z", "2025-01")

	// New York: EST (UTC-5) until 2025-03-09 02:00 local, EDT (UTC-4) after,
	// back to EST on 2025-11-02. Months end at local midnight either way.
	f("newyork", "2025-03-01T04:59:59Z", "2025-02") // 23:59:59 EST, Feb 28
	f("newyork", "2025-03-01T05:00:00Z", "2025-03")
	f("newyork", "2025-03-09T06:59:59Z", "2025-03") // 01:59:59 EST, the hour before the jump
	f("newyork", "2025-03-09T07:00:00Z", "2025-03") // 03:00:00 EDT
	f("newyork", "2025-04-01T03:59:59Z", "2025-03") // 23:59:59 EDT, Mar 31
	f("newyork", "2025-04-01T04:00:00Z", "2025-04")
	f("newyork", "2025-11-01T03:59:59Z", "2025-10") // 23:59:59 EDT, Oct 31
	f("newyork", "2025-11-01T04:00:00Z", "2025-11")
	f("newyork", "2025-11-02T05:30:00Z", "2025-11") // 01:30 EDT, the first of the two 01:30s
	f("newyork", "2025-11-02T06:30:00Z", "2025-11") // 01:30 EST, the second
	f("newyork", "2025-12-01T04:59:59Z", "2025-11") // 23:59:59 EST, Nov 30
	f("newyork", "2025-12-01T05:00:00Z", "2025-12")

	// Berlin: CET (UTC+1), CEST (UTC+2) from 2025-03-30 to 2025-10-26.
	f("berlin", "2025-03-31T21:59:59Z", "2025-03") // 23:59:59 CEST, Mar 31
	f("berlin", "2025-03-31T22:00:00Z", "2025-04")
	f("berlin", "2025-10-31T22:59:59Z", "2025-10") // 23:59:59 CET, Oct 31
	f("berlin", "2025-10-31T23:00:00Z", "2025-11")
	f("berlin", "2024-12-31T23:00:00Z", "2025-01") // the new year starts an hour before UTC's

	// Leap years: 2024-02-29 exists, and February ends a day later.
	f("utc", "2024-02-29T23:59:59Z", "2024-02")
	f("utc", "2024-03-01T00:00:00Z", "2024-03")
	f("berlin", "2024-02-29T22:59:59Z", "2024-02")
	f("berlin", "2024-02-29T23:00:00Z", "2024-03")
	f("newyork", "2024-03-01T04:59:59Z", "2024-02") // 23:59:59 EST, Feb 29
	f("newyork", "2025-03-01T04:59:59Z", "2025-02") // 2025 has no Feb 29

	// Auckland is ahead of UTC (NZDT, UTC+13 in January): its January starts
	// on December 31st at 11:00Z.
	f("auckland", "2025-12-31T10:59:59Z", "2025-12")
	f("auckland", "2025-12-31T11:00:00Z", "2026-01")
}

func TestCalendarBookingTime(t *testing.T) {
	cal := ledgerCalendar{Calendar: calendar.Of(time.UTC, nil), skew: 5 * time.Minute}
	now := time.Date(2026, time.November, 15, 12, 0, 0, 0, time.UTC)
	ts := pcommon.NewTimestampFromTime

	f := func(end pcommon.Timestamp, wantAt time.Time, want booking) {
		t.Helper()
		at, got := cal.bookingTime(end, time.Time{}, now)
		assert.Equal(t, want, got, "end %s", end)
		assert.True(t, wantAt.Equal(at), "end %s booked at %s, want %s", end, at, wantAt)
	}
	// Late spans keep their own month, however late.
	f(ts(time.Date(2026, time.October, 31, 23, 0, 0, 0, time.UTC)), time.Date(2026, time.October, 31, 23, 0, 0, 0, time.UTC), bookedAtEnd)
	f(ts(time.Date(2001, time.March, 1, 0, 0, 0, 0, time.UTC)), time.Date(2001, time.March, 1, 0, 0, 0, 0, time.UTC), bookedAtEnd)
	f(ts(time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)), time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC), bookedAtEnd)
	// Before 2000 or missing: at arrival.
	f(ts(time.Date(1999, time.December, 31, 23, 59, 59, 0, time.UTC)), now, bookedUndated)
	f(0, now, bookedUndated)
	// Up to the skew ahead of arrival: the end time stands.
	f(ts(now.Add(5*time.Minute)), now.Add(5*time.Minute), bookedAtEnd)
	// Beyond it: at arrival, as a clock running ahead.
	f(ts(now.Add(5*time.Minute+time.Nanosecond)), now, bookedFuture)
	f(ts(time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)), now, bookedFuture)

	// A call the processor priced at another instant than its end is
	// booked at that instant, whatever its end says: one second before
	// arrival here, as the processor saw the span a moment before.
	seen := now.Add(-time.Second)
	g := func(end pcommon.Timestamp, want booking) {
		t.Helper()
		at, got := cal.bookingTime(end, seen, now)
		assert.Equal(t, want, got, "end %s", end)
		assert.True(t, seen.Equal(at), "end %s booked at %s, want %s", end, at, seen)
	}
	g(0, bookedUndated)
	g(ts(time.Date(1999, time.December, 31, 23, 59, 59, 0, time.UTC)), bookedUndated)
	g(ts(now.Add(time.Minute)), bookedFuture) // the exporter's own skew would book it at its end
	g(ts(time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)), bookedFuture)
}

func TestLastMonthsAcrossZones(t *testing.T) {
	// On 2025-01-31T16:30Z it is already February in Shanghai: both months
	// are current.
	cal := ledgerCalendar{Calendar: calendar.Of(time.UTC, map[string]*time.Location{"acme": mustZone(t, "Asia/Shanghai")})}
	now := time.Date(2025, time.January, 31, 16, 30, 0, 0, time.UTC)
	assert.Equal(t, []string{"2025-02", "2025-01"}, cal.LastMonths(now, 1))
	assert.Equal(t, []string{"2025-02", "2025-01", "2024-12"}, cal.LastMonths(now, 2))
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}
