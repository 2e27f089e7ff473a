package exposition

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/usageledger/usageledger/testbed/internal/load"
)

// costSlack is how far, in picodollars, a cost read from the exposition may
// be from the exact ledger amount want: the exposition is a float64 view of
// an exact integer, so only the rounding of that one conversion (and of
// printing it) is allowed, a few units in the last place.
func costSlack(want int64) int64 {
	return int64(math.Ceil(math.Abs(float64(want))*4*0x1p-52)) + 1
}

// Exact compares got with want row by row and returns one line per
// difference, at most limit lines (plus a count of the rest). Rows of got
// in months outside months are ignored; rows of want too.
func Exact(want, got load.Totals, months []string, limit int) []string {
	in := func(k load.Key) bool { return len(months) == 0 || slices.Contains(months, k.Month) }
	var diffs []string
	more := 0
	report := func(format string, args ...any) {
		if len(diffs) < limit {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		} else {
			more++
		}
	}
	for k, w := range want {
		if !in(k) {
			continue
		}
		g, ok := got[k]
		if !ok {
			report("%s: missing from /metrics (want requests=%d)", k, w.Requests)
			continue
		}
		if d := diffCounters(*w, *g); d != "" {
			report("%s: %s", k, d)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && in(k) {
			report("%s: not sent, but /metrics has requests=%d", k, g.Requests)
		}
	}
	slices.Sort(diffs)
	if more > 0 {
		diffs = append(diffs, fmt.Sprintf("... and %d more differences", more))
	}
	return diffs
}

func diffCounters(w, g load.Counters) string {
	var b bytes.Buffer
	field := func(name string, want, got int64) {
		if want != got {
			fmt.Fprintf(&b, " %s got %d want %d;", name, got, want)
		}
	}
	field("requests", w.Requests, g.Requests)
	field("blocked", w.Blocked, g.Blocked)
	field("rate_limited", w.RateLimited, g.RateLimited)
	field("errors", w.Errors, g.Errors)
	field("input", w.Input, g.Input)
	field("output", w.Output, g.Output)
	if d := g.CostPicoUSD - w.CostPicoUSD; d > costSlack(w.CostPicoUSD) || -d > costSlack(w.CostPicoUSD) {
		fmt.Fprintf(&b, " cost got %d pUSD want %d pUSD;", g.CostPicoUSD, w.CostPicoUSD)
	}
	return b.String()
}

// Bounded checks a ledger after faults: every row must hold at least what
// was acknowledged (nothing lost) and at most that plus what was in failed
// export calls (each failed call counted at most once more). It returns the
// lines that break either bound, and the excess over acknowledged in total.
func Bounded(acked, failed, got load.Totals, months []string, limit int) (diffs []string, lost, excess load.Counters) {
	in := func(k load.Key) bool { return len(months) == 0 || slices.Contains(months, k.Month) }
	keys := map[load.Key]bool{}
	for k := range acked {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		if !in(k) {
			continue
		}
		var a, f, g load.Counters
		if c := acked[k]; c != nil {
			a = *c
		}
		if c := failed[k]; c != nil {
			f = *c
		}
		if c := got[k]; c != nil {
			g = *c
		}
		check := func(name string, a, f, g int64, lostField, excessField *int64) {
			if g < a {
				*lostField += a - g
				if len(diffs) < limit {
					diffs = append(diffs, fmt.Sprintf("%s: %s lost: got %d, acknowledged %d", k, name, g, a))
				}
			}
			if g > a {
				*excessField += g - a
			}
			if g > a+f && len(diffs) < limit {
				diffs = append(diffs, fmt.Sprintf("%s: %s got %d, more than acknowledged %d plus failed %d", k, name, g, a, f))
			}
		}
		check("requests", a.Requests, f.Requests, g.Requests, &lost.Requests, &excess.Requests)
		check("blocked", a.Blocked, f.Blocked, g.Blocked, &lost.Blocked, &excess.Blocked)
		check("rate_limited", a.RateLimited, f.RateLimited, g.RateLimited, &lost.RateLimited, &excess.RateLimited)
		check("input", a.Input, f.Input, g.Input, &lost.Input, &excess.Input)
		check("output", a.Output, f.Output, g.Output, &lost.Output, &excess.Output)
		// Cost is a float view: differences within its rounding are none.
		gc := g.CostPicoUSD
		if d := gc - a.CostPicoUSD; d <= costSlack(a.CostPicoUSD) && -d <= costSlack(a.CostPicoUSD) {
			gc = a.CostPicoUSD
		} else if d := gc - (a.CostPicoUSD + f.CostPicoUSD); d > 0 && d <= costSlack(a.CostPicoUSD+f.CostPicoUSD) {
			gc = a.CostPicoUSD + f.CostPicoUSD
		}
		check("cost", a.CostPicoUSD, f.CostPicoUSD, gc, &lost.CostPicoUSD, &excess.CostPicoUSD)
	}
	slices.Sort(diffs)
	return diffs, lost, excess
}

// Distance is how far an approximate pipeline's counters are from the
// expected ones, summed over all rows, in percent of the expected value
// (positive when the pipeline counted more).
type Distance struct {
	Requests, Input, Output, Cost float64
	// RowsExact counts the rows whose requests, tokens and cost (to 1e-9
	// relative) all match; RowsExpected is the number of expected rows.
	RowsExact, RowsExpected int
	// RowsUnexpected counts rows the pipeline has that were never sent
	// under that key.
	RowsUnexpected int
}

// Measure computes the distance of got from want.
func Measure(want, got load.Totals) Distance {
	pct := func(w, g int64) float64 {
		if w == 0 {
			return 0
		}
		return 100 * float64(g-w) / float64(w)
	}
	ws, gs := want.Sum(), got.Sum()
	d := Distance{
		Requests:     pct(ws.Requests, gs.Requests),
		Input:        pct(ws.Input, gs.Input),
		Output:       pct(ws.Output, gs.Output),
		Cost:         pct(ws.CostPicoUSD, gs.CostPicoUSD),
		RowsExpected: len(want),
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			continue
		}
		costClose := math.Abs(float64(g.CostPicoUSD-w.CostPicoUSD)) <= 1e-9*math.Abs(float64(w.CostPicoUSD))+1
		if g.Requests == w.Requests && g.Input == w.Input && g.Output == w.Output && costClose {
			d.RowsExact++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d.RowsUnexpected++
		}
	}
	return d
}
