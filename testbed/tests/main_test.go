// Package tests holds the testbed scenarios: each runs a collector binary as
// a child process pinned to its own core, drives it with GenAI spans from
// the load generator on the other core, checks its counters against the
// generator's totals and measures throughput, CPU and memory side by side
// with a baseline pipeline run in the same process.
package tests

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/collector"
	"github.com/usageledger/usageledger/testbed/internal/results"
)

// report collects the rows of every scenario of this run.
var report = &results.Report{}

func TestMain(m *testing.M) {
	report.Mode = "smoke"
	if full() {
		report.Mode = "full"
	}
	report.Start = time.Now()
	report.Host = fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if collector.CanPin() {
		if err := collector.PinSelf(collector.LoadCore); err != nil {
			fmt.Fprintln(os.Stderr, "testbed:", err)
			os.Exit(1)
		}
		runtime.GOMAXPROCS(1)
	} else {
		report.Note("fewer than two CPUs: processes were not pinned, numbers are not comparable")
	}

	report.Note("load average at start: %s", loadAverage())
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	report.Note("load average at end: %s (other work on the machine shares both cores)", loadAverage())

	if len(report.Rows) > 0 || len(report.Crash) > 0 {
		fmt.Println(report.Markdown())
		// Only a complete full run replaces the committed results; a run
		// narrowed with -run prints its table and leaves them alone.
		if full() && flag.Lookup("test.run").Value.String() == "" {
			if err := report.Write("../results", "latest"); err != nil {
				fmt.Fprintln(os.Stderr, "testbed:", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// full reports whether the long scenarios run (USAGELEDGER_TESTBED=full);
// otherwise every scenario runs a short correctness-only smoke.
func full() bool { return os.Getenv("USAGELEDGER_TESTBED") == "full" }

// requireFull skips a scenario that only runs in full mode.
func requireFull(t *testing.T) {
	t.Helper()
	if !full() {
		t.Skip("long scenario: set USAGELEDGER_TESTBED=full to run it")
	}
}
