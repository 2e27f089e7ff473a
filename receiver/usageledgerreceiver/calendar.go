package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"fmt"
	"slices"
	"time"
	// The zone database is built in, so that zones resolve the same on
	// hosts without one, as in the exporter.
	_ "time/tzdata"
)

// calendar knows the time zone of each organization, whose calendar months
// the exporter booked its calls in. It must hold the same zones as the
// exporter's configuration.
type calendar struct {
	zone  *time.Location            // of organizations without one
	zones map[string]*time.Location // by organization
}

// newCalendar loads the zones of cfg, which Validate has checked.
func newCalendar(cfg *Config) (calendar, error) {
	c := calendar{zones: make(map[string]*time.Location)}
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

// loadZone returns the IANA time zone name; "Local" is refused, as it would
// change with the host.
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

func (c calendar) zoneOf(org string) *time.Location {
	if z, ok := c.zones[org]; ok {
		return z
	}
	return c.zone
}

// monthStart returns the first instant of month ("YYYY-MM") in the zone of
// org. The ledger checks every month on commit, so month parses.
func (c calendar) monthStart(org, month string) time.Time {
	t, _ := time.ParseInLocation("2006-01", month, c.zoneOf(org))
	return t
}

// lastMonths returns the n months up to and including the month of now in
// any zone in use, newest first: near a month's end the zones may be in
// different months, and every one is read.
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
