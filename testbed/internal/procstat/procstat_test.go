package procstat

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadSelf(t *testing.T) {
	// Burn a little CPU so the reading is above zero.
	x := 0
	for i := range 50_000_000 {
		x += i
	}
	_ = x
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUSeconds <= 0 || s.RSS <= 0 || s.PeakRSS < s.RSS || s.RSSAnon <= 0 {
		t.Errorf("implausible sample of the test process: %+v", s)
	}
	if _, err := Read(1 << 30); err == nil {
		t.Error("reading a process that does not exist must fail")
	}
	if busy, err := MachineBusy(); err != nil || busy <= 0 {
		t.Errorf("MachineBusy() = %v, %v", busy, err)
	}
}

// A limit on anonymous memory alone reports only that limit: the test
// process has more than one byte of heap and far less than 1 TiB of RSS.
func TestWatcherLimits(t *testing.T) {
	f := func(limits Limits, want []string) {
		t.Helper()
		w := Watch(os.Getpid(), time.Hour, limits)
		w.Now()
		w.Stop()
		got := w.Violations()
		if len(got) != len(want) {
			t.Fatalf("Violations() = %q, want %d lines starting %q", got, len(want), want)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("violation %d = %q, want it to start with %q", i, got[i], want[i])
			}
		}
	}
	f(Limits{}, nil)
	f(Limits{MaxRSS: 1 << 40, MaxRSSAnon: 1 << 40}, nil)
	f(Limits{MaxRSSAnon: 1}, []string{"anonymous RSS above the limit of 0 MiB in 2 samples"})
	f(Limits{MaxRSS: 1, MaxRSSAnon: 1}, []string{"RSS above the limit of 0 MiB in 2 samples",
		"anonymous RSS above the limit of 0 MiB in 2 samples"})
}
