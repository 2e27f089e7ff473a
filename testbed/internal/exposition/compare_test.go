package exposition

import (
	"strings"
	"testing"

	"github.com/usageledger/usageledger/testbed/internal/load"
)

var row = load.Key{Org: "acme", Connection: "support-bot/openai", Model: "gpt-4o-mini", Month: "2026-12"}

func totals(c load.Counters) load.Totals { return load.Totals{row: &c} }

func TestExact(t *testing.T) {
	want := load.Counters{Requests: 10, Blocked: 1, RateLimited: 2, Input: 1200, Output: 300, CostPicoUSD: 360_000_000}
	f := func(got load.Totals, wantDiff string) {
		t.Helper()
		diffs := Exact(totals(want), got, []string{"2026-12"}, 10)
		switch {
		case wantDiff == "" && len(diffs) != 0:
			t.Errorf("unexpected differences: %v", diffs)
		case wantDiff != "" && (len(diffs) == 0 || !strings.Contains(strings.Join(diffs, "\n"), wantDiff)):
			t.Errorf("differences %v do not mention %q", diffs, wantDiff)
		}
	}
	f(totals(want), "")
	g := want
	g.CostPicoUSD++ // within the float view's rounding
	f(totals(g), "")
	g = want
	g.CostPicoUSD += 1000
	f(totals(g), "cost got")
	g = want
	g.Requests++
	f(totals(g), "requests got 11 want 10")
	g = want
	g.Blocked = 0
	f(totals(g), "blocked got 0 want 1")
	f(load.Totals{}, "missing from /metrics")
	other := row
	other.Org = "globex"
	f(load.Totals{row: &want, other: &load.Counters{Requests: 1}}, "not sent")
	// Rows of months not checked are ignored.
	old := row
	old.Month = "2026-10"
	f(load.Totals{row: &want, old: &load.Counters{Requests: 1}}, "")
}

func TestBounded(t *testing.T) {
	acked := load.Counters{Requests: 10, Input: 1000, Output: 100, CostPicoUSD: 1_000_000}
	failed := load.Counters{Requests: 4, Input: 400, Output: 40, CostPicoUSD: 400_000}
	f := func(got load.Counters, wantDiffs bool, wantLost, wantExcess int64) {
		t.Helper()
		diffs, lost, excess := Bounded(totals(acked), totals(failed), totals(got), nil, 10)
		if (len(diffs) > 0) != wantDiffs || lost.Requests != wantLost || excess.Requests != wantExcess {
			t.Errorf("got diffs %v, lost %d, excess %d; want diffs %v, lost %d, excess %d",
				diffs, lost.Requests, excess.Requests, wantDiffs, wantLost, wantExcess)
		}
	}
	f(acked, false, 0, 0)
	f(load.Counters{Requests: 14, Input: 1400, Output: 140, CostPicoUSD: 1_400_000}, false, 0, 4)
	f(load.Counters{Requests: 9, Input: 900, Output: 90, CostPicoUSD: 900_000}, true, 1, 0)
	f(load.Counters{Requests: 15, Input: 1500, Output: 150, CostPicoUSD: 1_500_000}, true, 0, 5)
}
