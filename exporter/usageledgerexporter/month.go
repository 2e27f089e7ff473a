package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/calendar"
	"github.com/usageledger/usageledger/internal/usage"
)

// booking says why a call was booked at its arrival rather than its end.
type booking int

const (
	bookedAtEnd   booking = iota
	bookedUndated         // no end time, or one before 2000
	bookedFuture          // an end time later than arrival plus the skew
)

// ledgerCalendar is the calendar the exporter books calls with: each
// organization's months, and the skew past which a call's end time is not
// believed.
type ledgerCalendar struct {
	calendar.Calendar
	skew time.Duration
}

// newLedgerCalendar loads the zones of cfg, which Validate has checked.
func newLedgerCalendar(cfg *Config) (ledgerCalendar, error) {
	cal, err := calendar.New(cfg.DefaultTimeZone, cfg.orgZones())
	if err != nil {
		return ledgerCalendar{}, err
	}
	return ledgerCalendar{Calendar: cal, skew: cfg.FutureSkew}, nil
}

// bookingTime returns the time a call is booked at: its end time, or arrival
// when the end time is missing, before 2000, or more than the skew after
// arrival, as the second result says. A call the processor priced at
// another instant than its end (pricedAt, not zero) is booked at that
// instant, so that its price and its month are taken at the same one; the
// processor does so for the same reasons, judged when it saw the span.
func (c ledgerCalendar) bookingTime(end pcommon.Timestamp, pricedAt, arrival time.Time) (time.Time, booking) {
	t := end.AsTime()
	undated := end == 0 || t.Before(usage.EarliestCallTime)
	switch {
	case !pricedAt.IsZero() && undated:
		return pricedAt, bookedUndated
	case !pricedAt.IsZero():
		return pricedAt, bookedFuture
	case undated:
		return arrival, bookedUndated
	case t.After(arrival.Add(c.skew)):
		return arrival, bookedFuture
	}
	return t, bookedAtEnd
}
