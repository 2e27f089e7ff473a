package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"fmt"
	"slices"
	"time"
	// The zone database is built in, so that time zones resolve the same on
	// hosts without one (distroless and scratch images).
	_ "time/tzdata"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// earliestCall is the earliest end time the exporter believes; a call dated
// before it (or not dated at all) is booked at its arrival.
var earliestCall = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// booking says why a call was booked at its arrival rather than its end.
type booking int

const (
	bookedAtEnd   booking = iota
	bookedUndated         // no end time, or one before 2000
	bookedFuture          // an end time later than arrival plus the skew
)

// calendar decides the calendar month a call belongs to: the month of its
// end time in its organization's time zone.
type calendar struct {
	zone  *time.Location            // of organizations without one
	zones map[string]*time.Location // by organization
	skew  time.Duration
}

// newCalendar loads the zones of cfg, which Validate has checked.
func newCalendar(cfg *Config) (calendar, error) {
	c := calendar{zones: make(map[string]*time.Location), skew: cfg.FutureSkew}
	var err error
	if c.zone, err = loadZone(cfg.DefaultTimeZone); err != nil {
		return calendar{}, fmt.Errorf("default_time_zone: %w", err)
	}
	for name, org := range cfg.Organizations {
		if org.TimeZone == "" {
			continue
		}
		if c.zones[name], err = loadZone(org.TimeZone); err != nil {
			return calendar{}, fmt.Errorf("organizations::%s::time_zone: %w", name, err)
		}
	}
	return c, nil
}

// loadZone returns the IANA time zone name. "Local" is refused: it would
// change with the host the collector runs on.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not a time zone; expecting an IANA name such as UTC or Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; expecting an IANA name such as UTC or Europe/Berlin", name)
	}
	return loc, nil
}

// bookingTime returns the time a call is booked at: its end time, or arrival
// when the end time is missing, before 2000, or more than the skew after
// arrival, as the second result says.
func (c calendar) bookingTime(end pcommon.Timestamp, arrival time.Time) (time.Time, booking) {
	t := end.AsTime()
	switch {
	case end == 0 || t.Before(earliestCall):
		return arrival, bookedUndated
	case t.After(arrival.Add(c.skew)):
		return arrival, bookedFuture
	}
	return t, bookedAtEnd
}

// zoneOf returns the time zone of an organization.
func (c calendar) zoneOf(org string) *time.Location {
	if z, ok := c.zones[org]; ok {
		return z
	}
	return c.zone
}

// month returns the calendar month of t for org as "YYYY-MM".
func (c calendar) month(org string, t time.Time) string {
	return t.In(c.zoneOf(org)).Format("2006-01")
}

// lastMonths returns the n months up to and including the month of now in
// any zone in use, newest first. Near a month's end the zones may be in
// different months; every one of them is included.
func (c calendar) lastMonths(now time.Time, n int) []string {
	months := lastMonthsIn(now, n, c.zone)
	for _, z := range c.zones {
		for _, m := range lastMonthsIn(now, n, z) {
			if !slices.Contains(months, m) {
				months = append(months, m)
			}
		}
	}
	slices.Sort(months)
	slices.Reverse(months)
	return months
}

func lastMonthsIn(now time.Time, n int, zone *time.Location) []string {
	local := now.In(zone)
	first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, zone)
	months := make([]string, n)
	for i := range months {
		months[i] = first.AddDate(0, -i, 0).Format("2006-01")
	}
	return months
}
