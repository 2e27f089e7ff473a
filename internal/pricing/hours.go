package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours is a daily window of UTC time, from Start up to but not including
// End, for prices that depend on the time of day (DeepSeek's peak and
// off-peak rates). A window with End before Start runs past midnight. The
// zero Hours is the whole day.
type Hours struct {
	Start, End time.Duration
}

// IsZero reports whether h is the whole day.
func (h Hours) IsZero() bool { return h == Hours{} }

// contains reports whether the UTC time of day of t falls in h.
func (h Hours) contains(t time.Time) bool {
	if h.IsZero() {
		return true
	}
	hour, minute, second := t.UTC().Clock()
	d := time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute + time.Duration(second)*time.Second
	if h.Start < h.End {
		return d >= h.Start && d < h.End
	}
	return d >= h.Start || d < h.End
}

// String returns h as a price file writes it, e.g. "00:30-16:30".
func (h Hours) String() string {
	if h.IsZero() {
		return ""
	}
	return clock(h.Start) + "-" + clock(h.End)
}

func clock(d time.Duration) string {
	s := fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	if sec := int(d % time.Minute / time.Second); sec != 0 {
		s += fmt.Sprintf(":%02d", sec)
	}
	return s
}

// parseHours reads "HH:MM-HH:MM" (seconds optional), UTC.
func parseHours(text string) (Hours, error) {
	start, end, ok := strings.Cut(text, "-")
	if !ok {
		return Hours{}, fmt.Errorf("'hours' %q is not a window; expecting UTC \"HH:MM-HH:MM\", e.g. \"00:30-16:30\"", text)
	}
	var h Hours
	var err error
	if h.Start, err = parseClock(start); err != nil {
		return Hours{}, fmt.Errorf("'hours' %q: %w", text, err)
	}
	if h.End, err = parseClock(end); err != nil {
		return Hours{}, fmt.Errorf("'hours' %q: %w", text, err)
	}
	if h.Start == h.End {
		return Hours{}, fmt.Errorf("'hours' %q starts where it ends; expecting a window shorter than a day, "+
			"or no 'hours' for the whole day", text)
	}
	return h, nil
}

// parseClock reads "HH:MM" or "HH:MM:SS", 00:00 to 24:00.
func parseClock(text string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(text), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("%q is not a time of day; expecting HH:MM", text)
	}
	limits := []int{24, 59, 59}
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || len(part) != 2 || n < 0 || n > limits[i] {
			return 0, fmt.Errorf("%q is not a time of day; expecting HH:MM", text)
		}
		d += time.Duration(n) * units[i]
	}
	if d > 24*time.Hour {
		return 0, fmt.Errorf("%q is past 24:00; expecting HH:MM", text)
	}
	return d % (24 * time.Hour), nil
}
