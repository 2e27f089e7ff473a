package tests

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/collector"
	"github.com/usageledger/usageledger/testbed/internal/load"
	"github.com/usageledger/usageledger/testbed/internal/procstat"
	"github.com/usageledger/usageledger/testbed/internal/results"
)

// bed is the working folder of one scenario and the collectors it runs.
// The folder (configurations, collector logs, ledger files) is removed when
// the scenario passes and kept, with its path printed, when it fails.
type bed struct {
	t   *testing.T
	dir string
	// runs numbers the collector starts, so each keeps its own log.
	runs int
}

func newBed(t *testing.T) *bed {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	dir, err := os.MkdirTemp("", "usageledger-testbed-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{t: t, dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("collector configurations and logs kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return b
}

// addr returns a free loopback address.
func (b *bed) addr() string {
	b.t.Helper()
	a, err := collector.FreeAddr()
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// running is a started collector and the watcher of its resources.
type running struct {
	proc  *collector.Process
	watch *procstat.Watcher
}

// start runs a collector pinned to the collector core and waits until it
// listens on every address in ready and answers every URL in urls.
func (b *bed) start(name, bin, config string, env []string, limits procstat.Limits, ready []string, urls []string) *running {
	b.t.Helper()
	b.runs++
	core := -1
	if collector.CanPin() {
		core = collector.CollectorCore
	}
	p, err := collector.Start(collector.Spec{
		Name: name, Binary: bin, Config: config, Env: env, Dir: b.dir, Core: core,
	}, b.runs)
	if err != nil {
		b.t.Fatal(err)
	}
	r := &running{proc: p}
	b.t.Cleanup(func() {
		r.watch.Stop()
		p.Kill()
	})
	if err := p.WaitReady(60*time.Second, ready, urls); err != nil {
		r.watch = procstat.Watch(p.Pid(), time.Second, limits)
		b.t.Fatalf("%v\n%s", err, tail(p.LogPath()))
	}
	r.watch = procstat.Watch(p.Pid(), 500*time.Millisecond, limits)
	return r
}

// stop ends the collector gracefully.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.watch.Stop()
	if err := r.proc.Stop(30 * time.Second); err != nil {
		t.Errorf("%v\n%s", err, tail(r.proc.LogPath()))
	}
}

// checkLimits fails the test for every resource sample that broke a limit.
func (r *running) checkLimits(t *testing.T) {
	t.Helper()
	for _, v := range r.watch.Violations() {
		t.Errorf("resource limit: %s", v)
	}
}

// tail returns the last lines of a log file, for failure messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return "last lines of " + path + ":\n" + strings.Join(lines, "\n")
}

// phase is one measured stretch of load, run rounds times (at least once);
// the round with the highest throughput is kept, which discounts rounds
// that other work on the machine slowed down.
type phase struct {
	name    string
	options load.Options
	rounds  int
}

// measure runs one load phase against r and returns its row (without the
// correctness column).
func measure(t *testing.T, scenario, pipeline string, r *running, g *load.Generator, ph phase) results.Row {
	t.Helper()
	var best results.Row
	for i := range max(1, ph.rounds) {
		row := measureOnce(t, scenario, pipeline, r, g, ph)
		if i == 0 || row.SpansPerSec > best.SpansPerSec {
			best = row
		}
	}
	best.Rounds = max(1, ph.rounds)
	return best
}

func measureOnce(t *testing.T, scenario, pipeline string, r *running, g *load.Generator, ph phase) results.Row {
	t.Helper()
	before := r.watch.Now()
	selfBefore, _ := procstat.Read(os.Getpid())
	machineBefore, _ := procstat.MachineBusy()
	spans, took := g.Run(context.Background(), ph.options)
	after := r.watch.Now()
	selfAfter, _ := procstat.Read(os.Getpid())
	machineAfter, _ := procstat.MachineBusy()
	if r.proc.Exited() {
		t.Fatalf("collector %s exited during the load\n%s", pipeline, tail(r.proc.LogPath()))
	}
	if spans == 0 {
		t.Fatalf("%s acknowledged no span in %s (%+v)\n%s", pipeline, ph.name, g.Stats(), tail(r.proc.LogPath()))
	}
	cpu := after.CPUSeconds - before.CPUSeconds
	row := results.Row{
		Scenario: scenario, Pipeline: pipeline, Phase: ph.name,
		Spans: spans, Seconds: took.Seconds(),
		SpansPerSec:   float64(spans) / took.Seconds(),
		CPUSeconds:    cpu,
		PeakRSSMiB:    float64(r.watch.PeakRSS()) / (1 << 20),
		CollectorBusy: cpu / took.Seconds(),
		LoadBusy:      (selfAfter.CPUSeconds - selfBefore.CPUSeconds) / took.Seconds(),
	}
	other := (machineAfter - machineBefore) - cpu - (selfAfter.CPUSeconds - selfBefore.CPUSeconds)
	row.OtherBusy = max(0, other) / took.Seconds()
	if spans > 0 {
		row.CPUPerMillion = cpu / float64(spans) * 1e6
	}
	t.Logf("%s %s: %d spans in %.1fs = %.0f spans/s, %.2f CPU s (%.2f s per M spans), peak RSS %.0f MiB, collector core %.0f%%, load core %.0f%%, other processes %.2f cores",
		pipeline, ph.name, spans, took.Seconds(), row.SpansPerSec, cpu, row.CPUPerMillion, row.PeakRSSMiB,
		100*row.CollectorBusy, 100*row.LoadBusy, row.OtherBusy)
	return row
}

// phases are the load phases of the comparison scenarios: a short
// correctness-only run by default, saturation and a fixed rate in full mode.
func phases() []phase {
	if !full() {
		return []phase{{name: "smoke", options: load.Options{Workers: 2, Duration: 2 * time.Second, MaxSpans: 20_000}}}
	}
	rate := envFloat("USAGELEDGER_TESTBED_RATE", 5000)
	seconds := time.Duration(envFloat("USAGELEDGER_TESTBED_SECONDS", 10)) * time.Second
	rounds := int(envFloat("USAGELEDGER_TESTBED_ROUNDS", 3))
	return []phase{
		{name: "saturation", rounds: rounds,
			options: load.Options{Workers: int(envFloat("USAGELEDGER_TESTBED_WORKERS", 8)), Duration: seconds}},
		{name: fmt.Sprintf("rate %.0f/s", rate), rounds: rounds,
			options: load.Options{Workers: 2, Rate: rate, Duration: seconds}},
	}
}

func envFloat(name string, def float64) float64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var f float64
	if _, err := fmt.Sscan(v, &f); err != nil || f <= 0 {
		return def
	}
	return f
}
