package budget // import "github.com/usageledger/usageledger/internal/budget"

import "time"

// forecastFloor is the least elapsed time the month-end forecast divides by.
// In the first hours of a month a few calls would otherwise project to a
// huge month: with the floor, spend within the first day is carried forward
// as if it had taken a whole day.
const forecastFloor = 24 * time.Hour

// ForecastUSD carries the month-to-date spend at the month-to-date run rate
// to the end of the month that starts at start and ends at end:
//
//	forecast = spend × (end − start) / max(now − start, 24h)
//
// The forecast is never below the spend (the elapsed time is at most the
// month), equals the spend once the month is over, and before the month
// starts it is the spend carried over one day.
func ForecastUSD(spend float64, start, end, now time.Time) float64 {
	month := end.Sub(start)
	elapsed := min(max(now.Sub(start), forecastFloor), month)
	return spend * (float64(month) / float64(elapsed))
}
