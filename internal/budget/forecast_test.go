package budget

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/usageledger/usageledger/internal/calendar"
)

func TestForecastUSD(t *testing.T) {
	utc := utcCalendar
	f := func(spend float64, now time.Time, want float64) {
		t.Helper()
		start, end := utc.MonthBounds("acme", now)
		assert.InDelta(t, want, ForecastUSD(spend, start, end, now), 1e-9, "%v at %s", spend, now)
	}
	at := func(month time.Month, day, hour int) time.Time {
		return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC)
	}
	// December has 31 days; on the 3rd at noon 2.5 days have passed:
	// 10 × 31 / 2.5 = 124.
	f(10, at(time.December, 3, 12), 124)
	// November has 30 days; at the start of the 16th, 15 have passed: 40 × 2.
	f(40, at(time.November, 16, 0), 80)
	// In the first day the elapsed time counts as one day: 10 × 31 / 1.
	f(10, at(time.December, 1, 6), 310)
	f(10, at(time.December, 1, 0), 310)
	// At the last instant of the month, the forecast is the spend.
	f(10, at(time.December, 31, 24).Add(-time.Nanosecond), 10)
	// No spend, no forecast.
	f(0, at(time.December, 15, 0), 0)
	// February 2028 has 29 days; on the 8th at midnight 7 have passed:
	// 7 × 29 / 7 = 29.
	f(7, time.Date(2028, time.February, 8, 0, 0, 0, 0, time.UTC), 29)
}

func TestMonthBounds(t *testing.T) {
	utc := utcCalendar
	start, end := utc.MonthBounds("acme", time.Date(2026, time.December, 31, 23, 59, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC), start)
	assert.Equal(t, time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC), end)
}

// utcCalendar books every organization in UTC.
var utcCalendar = calendar.Of(time.UTC, nil)

func TestMonthBoundsInOrganizationZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.Of(time.UTC, map[string]*time.Location{"globex": berlin})
	// 2026-03-31 23:30 UTC is April 1st 01:30 in Berlin (UTC+2 since March
	// 29th): globex is in April, acme still in March.
	now := time.Date(2026, time.March, 31, 23, 30, 0, 0, time.UTC)
	start, end := cal.MonthBounds("globex", now)
	assert.Equal(t, time.Date(2026, time.April, 1, 0, 0, 0, 0, berlin), start)
	assert.Equal(t, time.Date(2026, time.May, 1, 0, 0, 0, 0, berlin), end)
	start, end = cal.MonthBounds("acme", now)
	assert.Equal(t, time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC), start)
	assert.Equal(t, time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC), end)

	// March 2026 in Berlin loses an hour to daylight saving time: 31 days
	// less one hour, 743 hours.
	start, end = cal.MonthBounds("globex", time.Date(2026, time.March, 15, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, 743*time.Hour, end.Sub(start))
}
