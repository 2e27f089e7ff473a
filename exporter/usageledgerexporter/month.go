package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// earliestCall is the earliest end time the exporter believes; a call dated
// before it (or not dated at all) is booked at its arrival.
var earliestCall = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// calendar decides the calendar month a call belongs to. All organizations
// use UTC for now; a zone per organization fits here.
type calendar struct {
	zone *time.Location
}

// bookingTime returns the time a call is booked at: its end time, or arrival
// when the end time is missing or before 2000, as the second result says.
func (calendar) bookingTime(end pcommon.Timestamp, arrival time.Time) (time.Time, bool) {
	t := end.AsTime()
	if end == 0 || t.Before(earliestCall) {
		return arrival, true
	}
	return t, false
}

// month returns the calendar month of t as "YYYY-MM".
func (c calendar) month(t time.Time) string {
	return t.In(c.zone).Format("2006-01")
}

// lastMonths returns the n months up to and including the month of now,
// newest first.
func (c calendar) lastMonths(now time.Time, n int) []string {
	local := now.In(c.zone)
	first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, c.zone)
	months := make([]string, n)
	for i := range months {
		months[i] = first.AddDate(0, -i, 0).Format("2006-01")
	}
	return months
}
