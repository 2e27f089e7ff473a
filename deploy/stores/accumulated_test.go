package stores

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/usageledger/usageledger/deploy/grafana"
)

// liveTimeline holds the instants of the live rounds: beforeRounds, before
// the first was sent; windowStart, once every store held the first and
// before the second was sent; at, once every store held the second.
type liveTimeline struct {
	beforeRounds, windowStart, at time.Time
}

// checkAccumulatedCost runs the connection dashboard's accumulated cost, a
// time series, as the range query Grafana sends, for initech's connection
// over the live rounds, one step a second, and checks its steps: none before
// the first round, the first round's cost at windowStart, both rounds' at
// the end, and nothing else in between (but a round's request A committed
// without its request B yet), never going down.
func checkAccumulatedCost(t *testing.T, stores []store, m months, tl liveTimeline) {
	t.Helper()
	const title = "Accumulated cost this month"
	var expr string
	for _, p := range connectionDashboard(t).Panels {
		if p.Title == title {
			expr = p.Queries[0].Expr
		}
	}
	if expr == "" {
		t.Fatalf("the connection dashboard has no panel %q", title)
	}
	expr = grafana.Expand(expr, map[string]string{"org": liveOrg, "connection": liveConnection, "month": m.m0})

	first, second := round.costUSD, 2*round.costUSD
	partial := func(v float64) bool {
		return near(v, first-round.requestBCostUSD) || near(v, second-round.requestBCostUSD)
	}
	const step = time.Second
	end := tl.at.Truncate(step)
	start := tl.beforeRounds.Truncate(step).Add(-5 * step)
	stepAt := func(t time.Time) float64 { return float64(t.Truncate(step).Unix()) }
	for _, s := range stores {
		what := s.name + ": " + title + " over the live rounds"
		got, err := s.queryRange(expr, start, end, step)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %d series; want 1", what, len(got))
			continue
		}
		t.Logf("%s: %d steps from %s to %s", what, len(got[0].points), unix(got[0].points[0].at),
			unix(got[0].points[len(got[0].points)-1].at))
		byStep := make(map[float64]float64, len(got[0].points))
		prev := 0.0
		for _, p := range got[0].points {
			byStep[p.at] = p.value
			switch {
			case p.at <= float64(tl.beforeRounds.Unix()):
				t.Errorf("%s: %v at %s, before the first round was sent", what, p.value, unix(p.at))
			case !near(p.value, first) && !near(p.value, second) && !partial(p.value):
				t.Errorf("%s: %v at %s; want %v or %v, or either without request B", what, p.value, unix(p.at), first, second)
			case p.value < prev:
				t.Errorf("%s: %v at %s after %v; a month's cost never goes down", what, p.value, unix(p.at), prev)
			}
			prev = p.value
		}
		for _, known := range []struct {
			at   float64
			want float64
		}{{stepAt(tl.windowStart), first}, {stepAt(end), second}} {
			v, ok := byStep[known.at]
			if !ok || !near(v, known.want) {
				t.Errorf("%s: step %s is %v (present %v); want %v", what, unix(known.at), v, ok, known.want)
			}
		}
	}
}

func connectionDashboard(t *testing.T) grafana.Dashboard {
	t.Helper()
	for _, d := range grafana.Dashboards() {
		if d.Title == "Usage Ledger / Connection" {
			return d
		}
	}
	t.Fatal("no connection dashboard")
	return grafana.Dashboard{}
}

// near compares sums of exact costs turned to floating point.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func unix(seconds float64) string {
	return fmt.Sprint(time.Unix(int64(seconds), 0).UTC().Format(time.TimeOnly))
}
