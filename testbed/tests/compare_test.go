package tests

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/backend"
	"github.com/usageledger/usageledger/testbed/internal/exposition"
	"github.com/usageledger/usageledger/testbed/internal/load"
	"github.com/usageledger/usageledger/testbed/internal/price"
	"github.com/usageledger/usageledger/testbed/internal/procstat"
	"github.com/usageledger/usageledger/testbed/internal/results"
)

// The pipelines of the comparison run on the same load: 5 organizations ×
// 8 agents × the 5 priced models, 256 spans per request from two agent
// processes, every span shape of package load.
func comparisonMix() load.Mix {
	return load.Mix{Orgs: 5, Agents: 8, Models: price.Models, SpansPerRequest: 256, ResourcesPerRequest: 2, Templates: 32}
}

// sanity bounds the memory of the comparison pipelines.
var sanity = procstat.Limits{MaxRSS: 512 << 20}

// contender is one pipeline of the comparison: its collector, the load
// generator that drives it, and what checks its counters once every phase
// has run.
type contender struct {
	pipeline string
	r        *running
	g        *load.Generator
	// pprofAddr is where the collector serves profiles, when they are taken.
	pprofAddr string
	// verdict checks the counters and returns the correctness column.
	verdict func(t *testing.T) string
	rows    []results.Row
}

// TestComparison measures the pipelines side by side on the same load:
//   - baseline: OTLP receiver → batch → nop exporter, built into the Usage
//     Ledger distribution, the reference for the others;
//   - usage: the default Usage Ledger pipeline with a nop trace exporter
//     next to the ledger, the pipeline the goals are set for; every counter
//     on /metrics must equal what was sent;
//   - usage, with trace backend: the same pipeline forwarding the spans to
//     a trace backend over OTLP/gRPC, as a deployment does; the backend must
//     hold every span exactly once as well;
//   - diy: the pipeline a user could assemble from contrib parts
//     (diy-pipeline.yaml). Its counters cannot be exact (no cache pricing,
//     no deprecated names, float sums, no months), so the test reports how
//     far they are from the expected totals instead of failing on them;
//   - baseline and usage again with GOMAXPROCS=2, still on their one core:
//     with one P, the runtime keeps it while a commit waits in fdatasync,
//     and nothing else runs until the call returns or the runtime's
//     monitor takes the P back. These rows show what the second P the
//     exporter advises gives the usage pipeline, and what it gives the
//     baseline.
//
// All collectors are started first and the rounds of each phase take the
// pipelines in turn, so that a machine whose speed drifts over minutes, as
// shared machines do, weighs on every pipeline alike. The row of a
// pipeline is its best round of the phase. USAGELEDGER_TESTBED_PIPELINES
// (comma-separated names: "usage-backend" for the one with a backend,
// "baseline-gomaxprocs2" and "usage-gomaxprocs2") runs only some of them.
func TestComparison(t *testing.T) {
	starts := []struct {
		name  string
		start func(t *testing.T) *contender
	}{
		{results.Baseline, func(t *testing.T) *contender { return startBaseline(t, results.Baseline, nil) }},
		{"usage", func(t *testing.T) *contender { return startUsage(t, "usage", false, nil) }},
		{"usage-backend", func(t *testing.T) *contender { return startUsage(t, "usage, with trace backend", true, nil) }},
		{"diy", startDIY},
		{"baseline-gomaxprocs2", func(t *testing.T) *contender {
			return startBaseline(t, "baseline, GOMAXPROCS=2", twoProcessors)
		}},
		{"usage-gomaxprocs2", func(t *testing.T) *contender {
			return startUsage(t, "usage, GOMAXPROCS=2", false, twoProcessors)
		}},
	}
	chosen := strings.FieldsFunc(os.Getenv("USAGELEDGER_TESTBED_PIPELINES"), func(r rune) bool { return r == ',' || r == ' ' })
	var contenders []*contender
	for _, s := range starts {
		if len(chosen) > 0 && !slices.Contains(chosen, s.name) {
			continue
		}
		if c := s.start(t); c != nil {
			contenders = append(contenders, c)
		}
	}
	if len(contenders) == 0 {
		t.Fatalf("USAGELEDGER_TESTBED_PIPELINES=%q names none of the pipelines", os.Getenv("USAGELEDGER_TESTBED_PIPELINES"))
	}

	for _, ph := range phases() {
		best := make([]results.Row, len(contenders))
		rounds := max(1, ph.rounds)
		for round := range rounds {
			for i, c := range contenders {
				row := c.measure(t, ph, round == 0)
				if round == 0 || better(row, best[i], ph) {
					best[i] = row
				}
			}
		}
		for i, c := range contenders {
			best[i].Rounds = rounds
			c.rows = append(c.rows, best[i])
		}
	}

	for _, c := range contenders {
		verdict := c.verdict(t)
		for _, row := range c.rows {
			row.Correctness = verdict
			report.Add(row)
		}
		c.r.checkLimits(t)
		c.r.stop(t)
	}
}

// better reports whether round a of phase ph beats round b: more spans per
// second at saturation, less CPU per span at a fixed rate, where every
// round carries the same load.
func better(a, b results.Row, ph phase) bool {
	if ph.options.Rate > 0 {
		return a.CPUPerMillion < b.CPUPerMillion
	}
	return a.SpansPerSec > b.SpansPerSec
}

// measure runs one round of phase ph on c and returns its row, without the
// correctness column. With profile set and profiling asked for, a CPU
// profile of the round is saved.
func (c *contender) measure(t *testing.T, ph phase, profile bool) results.Row {
	t.Helper()
	var done chan struct{}
	if profile && c.pprofAddr != "" {
		done = make(chan struct{})
		go func() {
			defer close(done)
			saveProfile(t, c.pprofAddr, filepath.Join(profileDir(), fmt.Sprintf("%s-%s.pprof",
				logName(c.pipeline), strings.Fields(ph.name)[0])))
		}()
	}
	row := measureOnce(t, "comparison", c.pipeline, c.r, c.g, ph)
	if done != nil {
		<-done
	}
	return row
}

// twoProcessors is the environment of the comparison's GOMAXPROCS=2 rows;
// it comes after the runner's GOMAXPROCS=1, and the last value counts.
var twoProcessors = []string{"GOMAXPROCS=2"}

// logName turns a pipeline's name into the name of its files.
func logName(pipeline string) string {
	return strings.NewReplacer(", with trace backend", "-backend", ", GOMAXPROCS=2", "-gomaxprocs2").Replace(pipeline)
}

func startBaseline(t *testing.T, pipeline string, env []string) *contender {
	bin := collectorBinary(t)
	b := newBed(t)
	grpcAddr, selfAddr := b.addr(), b.addr()
	c := &contender{pipeline: pipeline}
	c.r = b.start(logName(pipeline), bin, baselineConfig(grpcAddr, selfAddr), env, sanity, []string{grpcAddr}, nil)
	c.g = newGenerator(t, grpcAddr, comparisonMix())
	c.verdict = func(t *testing.T) string {
		if s := c.g.Stats(); s.FailedAttempts != 0 {
			t.Errorf("%s refused %d exports", pipeline, s.FailedAttempts)
		}
		return "not counted"
	}
	return c
}

func startUsage(t *testing.T, pipeline string, withBackend bool, env []string) *contender {
	bin := collectorBinary(t)
	b := newBed(t)
	u := usage{grpcAddr: b.addr(), metricsAddr: b.addr(), selfAddr: b.addr(),
		ledgerPath: b.dir + "/usage-ledger.db"}
	var be *backend.Backend
	if withBackend {
		be = startBackend(t)
		u.backendAddr = be.Addr()
	} else {
		u.nopTraces = true
	}
	mix := comparisonMix()
	mix.End = time.Now().UTC()
	month := mix.End.Format("2006-01")
	u.pinned = []string{month}
	if os.Getenv("USAGELEDGER_TESTBED_PROFILE") != "" {
		u.pprofAddr = b.addr()
	}
	c := &contender{pipeline: pipeline, pprofAddr: u.pprofAddr}
	c.r = b.start(logName(pipeline), bin, usageConfig(u), env, sanity,
		[]string{u.grpcAddr}, []string{metricsURL(u.metricsAddr)})
	c.g = newGenerator(t, u.grpcAddr, mix)
	c.verdict = func(t *testing.T) string {
		if s := c.g.Stats(); s.FailedAttempts != 0 {
			t.Errorf("%s refused %d exports (last: %s); the comparison needs every export acknowledged",
				pipeline, s.FailedAttempts, s.LastError)
		}
		verdict := checkLedger(t, u.metricsAddr, c.g.Acked(), []string{month})
		if be != nil {
			checkBackend(t, be, c.g)
		}
		return verdict
	}
	return c
}

// startDIY starts the do-it-yourself pipeline, or returns nil, with the
// reason logged, when its collector cannot be built here.
func startDIY(t *testing.T) *contender {
	bin, err := diyBinary(t)
	if err != nil {
		t.Logf("do-it-yourself pipeline left out: %v", err)
		return nil
	}
	b := newBed(t)
	grpcAddr, promAddr, selfAddr := b.addr(), b.addr(), b.addr()
	config, env := diyConfig(t, grpcAddr, promAddr, selfAddr)
	c := &contender{pipeline: "diy"}
	c.r = b.start("diy", bin, config, env, sanity, []string{grpcAddr, promAddr}, nil)
	c.g = newGenerator(t, grpcAddr, comparisonMix())
	c.verdict = func(t *testing.T) string {
		// The prometheus exporter serves what signaltometrics emitted; wait
		// until two scrapes a second apart agree.
		want := monthless(c.g.Acked())
		var d exposition.Distance
		previous := int64(-1)
		for range 15 {
			s, err := exposition.Get(metricsURL(promAddr), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := s.Rows(diySchema)
			d = exposition.Measure(want, got)
			if n := got.Sum().Requests; n == previous {
				break
			} else {
				previous = n
			}
			time.Sleep(time.Second)
		}
		verdict := fmt.Sprintf("approximate: requests %+.1f%%, input %+.1f%%, output %+.1f%%, cost %+.2f%%; %d of %d rows exact, %d rows never sent",
			d.Requests, d.Input, d.Output, d.Cost, d.RowsExact, d.RowsExpected, d.RowsUnexpected)
		t.Log("do-it-yourself counters: " + verdict)
		return verdict
	}
	return c
}

// diySchema is where diy-pipeline.yaml puts the row key and counters once
// the prometheus exporter has translated the names.
var diySchema = exposition.Schema{
	Org: "tenant_id", Connection: "usage_connection", Model: "gen_ai_request_model",
	Requests: "genai_connection_requests_total",
	Input:    "genai_connection_input_tokens_total",
	Output:   "genai_connection_output_tokens_total",
	Cost:     "genai_connection_cost_total",
}

// monthless folds the months of t together, for pipelines that have none.
func monthless(t load.Totals) load.Totals {
	out := load.Totals{}
	for k, c := range t {
		k.Month = ""
		out.Merge(load.Totals{k: c})
	}
	return out
}

func newGenerator(t *testing.T, addr string, mix load.Mix) *load.Generator {
	t.Helper()
	g, err := load.New(addr, mix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func startBackend(t *testing.T) *backend.Backend {
	t.Helper()
	be, err := backend.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Stop)
	return be
}

func metricsURL(addr string) string { return "http://" + addr + "/metrics" }

// profileDir is where USAGELEDGER_TESTBED_PROFILE=1 puts CPU profiles of
// the usage pipeline: bin/profiles, next to the binaries, not committed.
func profileDir() string {
	dir := "../bin/profiles"
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// saveProfile records a CPU profile of the first 8 s of a phase.
func saveProfile(t *testing.T, pprofAddr, path string) {
	fetchProfile(t, pprofAddr, "profile?seconds=8", path)
}

// saveHeapProfile records what the heap holds now, as of the last garbage
// collection.
func saveHeapProfile(t *testing.T, pprofAddr, path string) {
	fetchProfile(t, pprofAddr, "heap", path)
}

// fetchProfile saves the profile the collector's pprof extension serves
// at /debug/pprof/<which>.
func fetchProfile(t *testing.T, pprofAddr, which, path string) {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + pprofAddr + "/debug/pprof/" + which)
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Logf("profile: %v %s", err, resp.Status)
		return
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Logf("profile: %v", err)
		return
	}
	t.Logf("profile written to %s", path)
}

// checkLedger scrapes the ledger's /metrics and requires every counter of
// the given months to equal want exactly; it returns the verdict for the
// results table.
func checkLedger(t *testing.T, metricsAddr string, want load.Totals, months []string) string {
	t.Helper()
	s, err := exposition.Get(metricsURL(metricsAddr), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, other := s.Rows(exposition.Ledger)
	diffs := exposition.Exact(want, got, months, 20)
	for typ, v := range other {
		if v != 0 {
			diffs = append(diffs, fmt.Sprintf("tokens of type %q: got %v, want 0 (the load has none)", typ, v))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("/metrics differs from the %s sent:\n%s", want.Summary(), joinLines(diffs))
		return fmt.Sprintf("WRONG: %d differences", len(diffs))
	}
	t.Logf("/metrics equals what was sent: %s", want.Summary())
	checked := 0
	for k := range want {
		if slices.Contains(months, k.Month) {
			checked++
		}
	}
	return fmt.Sprintf("exact (%d rows)", checked)
}

// checkBackend requires the trace backend to hold every acknowledged span
// exactly once.
func checkBackend(t *testing.T, be *backend.Backend, g *load.Generator) {
	t.Helper()
	c := be.WaitFor(g.LastSeq(), g.GaveUp(), 30*time.Second)
	if c.Missing != 0 || c.Duplicated != 0 || c.Beyond != 0 {
		t.Errorf("trace backend: %d of %d spans missing, %d duplicated, %d unknown (%d spans stored)",
			c.Missing, g.LastSeq(), c.Duplicated, c.Beyond, c.Spans)
		return
	}
	t.Logf("trace backend holds each of the %d spans exactly once", g.LastSeq())
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
