package procstat

import (
	"os"
	"testing"
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
