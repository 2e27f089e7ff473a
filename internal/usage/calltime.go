package usage // import "github.com/usageledger/usageledger/internal/usage"

import "time"

// FutureSkew is how far past the moment it is seen a call may end and
// still be priced and booked at its end: the processor's bound, and the
// default of the exporter's future_skew. A span that ends later comes from
// a clock ahead of the collector's, and its call is priced and booked at
// the moment it is seen rather than in a month that has not begun.
const FutureSkew = 5 * time.Minute

// EarliestCallTime bounds the end times taken as plausible: the call of a
// span that ends before it is priced and booked at the moment it is seen.
var EarliestCallTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
