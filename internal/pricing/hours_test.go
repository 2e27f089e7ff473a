package pricing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHours(t *testing.T) {
	f := func(text string, want Hours) {
		t.Helper()
		got, err := parseHours(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	f("00:30-16:30", Hours{Start: 30 * time.Minute, End: 16*time.Hour + 30*time.Minute})
	f("16:30-00:30", Hours{Start: 16*time.Hour + 30*time.Minute, End: 30 * time.Minute})
	f("22:00-24:00", Hours{Start: 22 * time.Hour, End: 0})
	f("01:00:30-04:00", Hours{Start: time.Hour + 30*time.Second, End: 4 * time.Hour})

	for text, wantMsg := range map[string]string{
		"0030":        "is not a window",
		"0030-1630":   `"0030" is not a time of day`,
		"00:30-16":    `"16" is not a time of day`,
		"1:00-04:00":  `"1:00" is not a time of day`,
		"25:00-04:00": `"25:00" is not a time of day`,
		"24:01-04:00": `"24:01" is past 24:00`,
		"04:00-04:00": "starts where it ends",
	} {
		_, err := parseHours(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), wantMsg, text)
	}
}

func TestHoursContains(t *testing.T) {
	day := Hours{Start: 30 * time.Minute, End: 16*time.Hour + 30*time.Minute}
	night := Hours{Start: 16*time.Hour + 30*time.Minute, End: 30 * time.Minute}
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	for _, tt := range []struct {
		at         time.Time
		day, night bool
	}{
		{at(0, 29), false, true},
		{at(0, 30), true, false}, // the start is in the window
		{at(12, 0), true, false},
		{at(16, 30), false, true}, // the end is not
		{at(23, 59), false, true},
		// 01:00 in UTC+2 is 23:00 UTC.
		{time.Date(2026, 12, 2, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), false, true},
	} {
		assert.Equal(t, tt.day, day.contains(tt.at), "day at %s", tt.at)
		assert.Equal(t, tt.night, night.contains(tt.at), "night at %s", tt.at)
	}
	assert.True(t, Hours{}.contains(at(3, 0)))
}

func TestDeepSeekPeakHours(t *testing.T) {
	// The dataset prices deepseek-chat at $0.27 / $1.10 per million from
	// 00:30 to 16:30 UTC and at the off-peak $0.135 / $0.55 otherwise.
	table, err := Builtin()
	require.NoError(t, err)
	call := Tokens{Input: 1_000_000, Output: 1_000_000}
	f := func(at time.Time, want int64) {
		t.Helper()
		p, ok := table.Lookup("deepseek", "deepseek-chat", at)
		require.True(t, ok, at)
		got, err := p.Cost(call)
		require.NoError(t, err)
		assert.Equal(t, want, got, at)
	}
	f(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), usd(1_370_000)) // $0.27 + $1.10
	f(time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC), usd(685_000))   // $0.135 + $0.55
}

func TestHoursInPriceFile(t *testing.T) {
	table, err := Load([]byte(`
version: 1
prices:
  - {provider: deepseek, model: m, effective: 2026-01-01, input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
  - {provider: deepseek, model: m, effective: 2026-01-01, hours: "08:00-20:00", input: 2, output: 2,
     source: {url: https://example.com, read: 2026-01-01}}
  - {provider: deepseek, model: m, effective: 2026-06-01, input: 3, output: 3,
     source: {url: https://example.com, read: 2026-06-01}}
`))
	require.NoError(t, err)
	f := func(at time.Time, wantInput int64) {
		t.Helper()
		p, ok := table.Lookup("deepseek", "m", at)
		require.True(t, ok, at)
		assert.Equal(t, wantInput, p.Input, at)
	}
	f(time.Date(2026, 3, 1, 7, 59, 0, 0, time.UTC), 1_000_000)
	f(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), 2_000_000)
	// A later all-day price replaces every earlier one, windows included.
	f(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), 3_000_000)

	_, err = Load([]byte(`
version: 1
prices:
  - {provider: deepseek, model: m, effective: 2026-01-01, hours: "08:00-20:00", input: 1, output: 1,
     source: {url: https://example.com, read: 2026-01-01}}
  - {provider: deepseek, model: m, effective: 2026-01-01, hours: "08:00-20:00", input: 2, output: 2,
     source: {url: https://example.com, read: 2026-01-01}}
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deepseek m (08:00-20:00 UTC) has two prices effective 2026-01-01")
}
