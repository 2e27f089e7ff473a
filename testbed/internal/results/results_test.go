package results

import (
	"strings"
	"testing"
)

// Every pipeline is compared with the baseline of one P in the
// same phase, and the line of CPU added names which baseline the
// GOMAXPROCS=2 pipeline is measured over. The figures are worked out by
// hand: usage 8.00 - 4.00 = +4.00 against diy 10.00 - 4.00 = +6.00, so
// 0.67×; usage with two Ps 9.00 - 4.00 = +5.00, 0.83×.
func TestMarkdownComparesWithTheBaseline(t *testing.T) {
	r := &Report{}
	row := func(pipeline string, spansPerSec, cpu float64) Row {
		return Row{Scenario: "comparison", Pipeline: pipeline, Phase: "saturation",
			SpansPerSec: spansPerSec, CPUSeconds: 1, CPUPerMillion: cpu}
	}
	// Added out of order: the table sorts them.
	r.Add(row("usage, GOMAXPROCS=2", 60_000, 9))
	r.Add(row("diy", 50_000, 10))
	r.Add(row("baseline, GOMAXPROCS=2", 104_000, 3.9))
	r.Add(row("usage", 55_000, 8))
	r.Add(row(Baseline, 100_000, 4))
	md := r.Markdown()

	var order []string
	for _, line := range strings.Split(md, "\n") {
		if cells := strings.Split(line, " | "); len(cells) > 2 && strings.HasPrefix(line, "| comparison") {
			order = append(order, cells[1]+": "+strings.Join(cells[4:8], " "))
		}
	}
	want := []string{
		"baseline: 100000 — 4.00 —",
		"usage: 55000 0.55 8.00 2.00",
		"diy: 50000 0.50 10.00 2.50",
		"baseline, GOMAXPROCS=2: 104000 1.04 3.90 0.97",
		"usage, GOMAXPROCS=2: 60000 0.60 9.00 2.25",
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows (pipeline: spans/s, ratio, CPU, ratio):\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	added := "CPU added per span over the baseline (saturation): do-it-yourself +6.00 s/M spans; " +
		"usage +4.00 s/M spans (0.67× what do-it-yourself adds); " +
		"usage, GOMAXPROCS=2 +5.00 s/M spans over the baseline with one P (0.83× what do-it-yourself adds)\n"
	if !strings.Contains(md, added) {
		t.Errorf("the table lacks\n%s\nin:\n%s", added, md)
	}
}
