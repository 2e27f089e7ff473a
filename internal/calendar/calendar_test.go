package calendar

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMonthInTheOrganizationsZone(t *testing.T) {
	c, err := New("UTC", map[string]string{"acme": "Asia/Shanghai", "globex": "America/New_York", "initech": ""})
	require.NoError(t, err)

	f := func(org, end, want string) {
		t.Helper()
		at, err := time.Parse(time.RFC3339, end)
		require.NoError(t, err)
		assert.Equal(t, want, c.Month(org, at), "%s at %s", org, end)
	}
	// 16:30 UTC is 00:30 the next day in Shanghai (UTC+8, no DST).
	f("acme", "2025-01-31T16:30:00Z", "2025-02")
	f("acme", "2025-01-31T15:59:59Z", "2025-01")
	// New York is UTC-5 in winter: 04:59 UTC on March 1st is still February.
	f("globex", "2025-03-01T04:59:59Z", "2025-02")
	f("globex", "2025-03-01T05:00:00Z", "2025-03")
	// An organization without a zone of its own, or unknown, is on UTC.
	f("initech", "2025-01-31T23:59:59Z", "2025-01")
	f("umbrella", "2024-02-29T12:00:00Z", "2024-02")
	assert.Equal(t, 2, c.OwnZones())
}

func TestMonthStartIn(t *testing.T) {
	berlin, err := LoadZone("Europe/Berlin")
	require.NoError(t, err)

	// March 2025 starts at midnight CET, 23:00 UTC on February 28th.
	assert.Equal(t, time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC), MonthStartIn(berlin, "2025-03").UTC())
	assert.Equal(t, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), MonthStartIn(time.UTC, "2025-03").UTC())
	assert.True(t, MonthStartIn(time.UTC, "2025-13").IsZero())
}

func TestLastMonthsCoverEveryZone(t *testing.T) {
	shanghai, err := LoadZone("Asia/Shanghai")
	require.NoError(t, err)
	c := Of(time.UTC, map[string]*time.Location{"acme": shanghai})

	// 2025-01-31T20:00Z is already February in Shanghai.
	now := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC)
	assert.Equal(t, []string{"2025-02", "2025-01"}, c.LastMonths(now, 1))
	assert.Equal(t, []string{"2025-02", "2025-01", "2024-12"}, c.LastMonths(now, 2))
	assert.Equal(t, []string{"2025-01", "2024-12", "2024-11"}, Of(time.UTC, nil).LastMonths(now, 3))
}

func TestBadZonesNameTheirKey(t *testing.T) {
	_, err := New("Local", map[string]string{"acme": "Mars/Olympus", "globex": "UTC"})
	require.Error(t, err)
	assert.ErrorContains(t, err, `default_time_zone: "Local" is not a time zone`)
	assert.ErrorContains(t, err, `organizations::acme::time_zone: unknown time zone "Mars/Olympus"`)
	assert.NotContains(t, err.Error(), "globex")
}
