// Package calendar decides which calendar month a call belongs to: the month
// of an instant in its organization's time zone. The exporter books calls
// with it and the receiver dates each month's counters with it (unless the
// ledger recorded the zone a month was booked in), so both must be given
// the same zones.
package calendar // import "github.com/usageledger/usageledger/internal/calendar"

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	// The zone database is built in, so that time zones resolve the same on
	// hosts without one (distroless and scratch images).
	_ "time/tzdata"
)

// monthLayout is how a month is written in the ledger and in labels.
const monthLayout = "2006-01"

// Calendar holds the time zone of every organization: its own, or the
// default. The zero value is not usable; make one with New or Of. It is
// safe for concurrent use.
type Calendar struct {
	zone  *time.Location            // of organizations without one
	zones map[string]*time.Location // by organization
}

// New returns the calendar of defaultZone and of orgZones, the IANA zone
// name of each organization that has its own ("" leaves it on the default).
// Every error names its configuration key: default_time_zone or
// organizations::<org>::time_zone.
func New(defaultZone string, orgZones map[string]string) (Calendar, error) {
	var errs []error
	zone, err := LoadZone(defaultZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("default_time_zone: %w", err))
	}
	c := Calendar{zone: zone, zones: make(map[string]*time.Location)}
	for _, org := range slices.Sorted(maps.Keys(orgZones)) {
		if orgZones[org] == "" {
			continue
		}
		if c.zones[org], err = LoadZone(orgZones[org]); err != nil {
			errs = append(errs, fmt.Errorf("organizations::%s::time_zone: %w", org, err))
		}
	}
	if len(errs) > 0 {
		return Calendar{}, errors.Join(errs...)
	}
	return c, nil
}

// Of returns the calendar of zones already loaded: zone for organizations
// not in zones.
func Of(zone *time.Location, zones map[string]*time.Location) Calendar {
	return Calendar{zone: zone, zones: zones}
}

// LoadZone returns the IANA time zone name. "Local" is refused: it would
// change with the host the collector runs on.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not a time zone; expecting an IANA name such as UTC or Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; expecting an IANA name such as UTC or Europe/Berlin", name)
	}
	return loc, nil
}

// OwnZones is how many organizations have a zone of their own.
func (c Calendar) OwnZones() int {
	return len(c.zones)
}

// ZoneOf returns the time zone of an organization.
func (c Calendar) ZoneOf(org string) *time.Location {
	if z, ok := c.zones[org]; ok {
		return z
	}
	return c.zone
}

// Month returns the calendar month of t for org as "YYYY-MM".
func (c Calendar) Month(org string, t time.Time) string {
	return t.In(c.ZoneOf(org)).Format(monthLayout)
}

// MonthStartIn returns the first instant of month ("YYYY-MM") in zone, or
// the zero time when month is not a month.
func MonthStartIn(zone *time.Location, month string) time.Time {
	t, err := time.ParseInLocation(monthLayout, month, zone)
	if err != nil {
		return time.Time{}
	}
	return t
}

// MonthBounds returns the first instant of the month of now in the zone of
// org and the first instant of the next month there. A month in a zone with
// daylight saving time is an hour shorter or longer than its days.
func (c Calendar) MonthBounds(org string, now time.Time) (start, end time.Time) {
	zone := c.ZoneOf(org)
	local := now.In(zone)
	start = time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, zone)
	return start, start.AddDate(0, 1, 0)
}

// LastMonths returns the n months up to and including the month of now in
// any zone in use, newest first. Near a month's end the zones may be in
// different months; every one of them is included.
func (c Calendar) LastMonths(now time.Time, n int) []string {
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
		months[i] = first.AddDate(0, -i, 0).Format(monthLayout)
	}
	return months
}
