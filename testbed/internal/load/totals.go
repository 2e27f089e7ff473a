package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Key names one ledger row: an organization's connection to one model in one
// calendar month (YYYY-MM, UTC).
type Key struct {
	Org        string
	Connection string
	Model      string
	Month      string
}

func (k Key) String() string {
	return fmt.Sprintf("{org=%q connection=%q model=%q month=%s}", k.Org, k.Connection, k.Model, k.Month)
}

// Counters are the values the ledger keeps for one [Key].
type Counters struct {
	Requests    int64
	Blocked     int64
	RateLimited int64
	Errors      int64
	Input       int64
	Output      int64
	CostPicoUSD int64
}

func (c *Counters) add(o Counters) {
	c.Requests += o.Requests
	c.Blocked += o.Blocked
	c.RateLimited += o.RateLimited
	c.Errors += o.Errors
	c.Input += o.Input
	c.Output += o.Output
	c.CostPicoUSD += o.CostPicoUSD
}

// Totals are counters per ledger row. A Totals is not safe for concurrent
// use; each load worker keeps its own and they are merged when it ends.
type Totals map[Key]*Counters

func (t Totals) add(k Key, c Counters) {
	cur, ok := t[k]
	if !ok {
		cur = &Counters{}
		t[k] = cur
	}
	cur.add(c)
}

// Merge adds every row of o to t.
func (t Totals) Merge(o Totals) {
	for k, c := range o {
		t.add(k, *c)
	}
}

// Sum adds all rows whose month is in months (all rows when months is empty).
func (t Totals) Sum(months ...string) Counters {
	var s Counters
	for k, c := range t {
		if len(months) == 0 || slices.Contains(months, k.Month) {
			s.add(*c)
		}
	}
	return s
}

// Connections counts the distinct (organization, connection) pairs.
func (t Totals) Connections() int {
	seen := make(map[[2]string]struct{}, len(t))
	for k := range t {
		seen[[2]string{k.Org, k.Connection}] = struct{}{}
	}
	return len(seen)
}

// Months lists the distinct months, sorted.
func (t Totals) Months() []string {
	seen := map[string]struct{}{}
	for k := range t {
		seen[k.Month] = struct{}{}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Clone returns a deep copy of t.
func (t Totals) Clone() Totals {
	out := make(Totals, len(t))
	out.Merge(t)
	return out
}

// Summary is a one-line description of the sums of t, for logs.
func (t Totals) Summary() string {
	s := t.Sum()
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows, %d connections: requests=%d blocked=%d rate_limited=%d input=%d output=%d cost=%d pUSD",
		len(t), t.Connections(), s.Requests, s.Blocked, s.RateLimited, s.Input, s.Output, s.CostPicoUSD)
	return b.String()
}
