package results

import (
	"strings"
	"testing"
)

// A variant the time bound cut short shows how many of its rounds ran.
func TestCrashMarkdown(t *testing.T) {
	r := &Report{}
	r.AddCrash(CrashRow{Variant: "kill -9", Rounds: 50, RoundsPlanned: 50, StoppedInFlight: 50, InFlight: 200,
		Acked: 2358272, Retried: 51200, Duplicates: 8192, Seconds: 138.4, PeakRSSMiB: 953.2, PeakAnonMiB: 23.4,
		LedgerMiB: 900.1, Seed: 7, Correctness: "exact after every round (200 rows)"})
	r.AddCrash(CrashRow{Variant: "sigterm", Rounds: 12, RoundsPlanned: 50, Seed: 7, Correctness: "exact"})
	md := r.Markdown()
	for _, want := range []string{
		"| kill -9 | 50 | 50 (200 exports) | 2358272 | 51200 | 0 | 8192 | 0 | 0 | 138 | 953 (23) | 900 | 7 | exact after every round (200 rows) |\n",
		"| sigterm | 12 of 50 | 0 (0 exports) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the crash table lacks %q:\n%s", want, md)
		}
	}
}
