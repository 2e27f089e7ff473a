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

// The three pipelines of the comparison run on the same load: 5
// organizations × 8 agents × the 5 priced models, 256 spans per request from
// two agent processes, every span shape of package load.
func comparisonMix() load.Mix {
	return load.Mix{Orgs: 5, Agents: 8, Models: price.Models, SpansPerRequest: 256, ResourcesPerRequest: 2, Templates: 32}
}

// sanity bounds the memory of the comparison pipelines.
var sanity = procstat.Limits{MaxRSS: 512 << 20}

// TestBaseline measures OTLP receiver → batch → nop exporter, built into the
// Usage Ledger distribution, as the reference for the other pipelines.
func TestBaseline(t *testing.T) {
	bin := collectorBinary(t)
	b := newBed(t)
	grpcAddr, selfAddr := b.addr(), b.addr()
	r := b.start("baseline", bin, baselineConfig(grpcAddr, selfAddr), nil, sanity, []string{grpcAddr}, nil)

	g := newGenerator(t, grpcAddr, comparisonMix())
	for _, ph := range phases() {
		row := measure(t, "comparison", results.Baseline, r, g, ph)
		row.Correctness = "not counted"
		report.Add(row)
	}
	if s := g.Stats(); s.FailedAttempts != 0 {
		t.Errorf("the baseline refused %d exports", s.FailedAttempts)
	}
	r.checkLimits(t)
	r.stop(t)
}

// TestUsage measures the default Usage Ledger pipeline with a nop trace
// exporter next to the ledger, the pipeline the goals are set for, and
// checks that every counter on /metrics equals what was sent.
func TestUsage(t *testing.T) { runUsage(t, "usage", false) }

// TestUsageWithBackend measures the same pipeline forwarding the spans to a
// trace backend over OTLP/gRPC, as a deployment does, and checks as well
// that the backend got every span exactly once.
func TestUsageWithBackend(t *testing.T) { runUsage(t, "usage, with trace backend", true) }

func runUsage(t *testing.T, pipeline string, withBackend bool) {
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
	profile := os.Getenv("USAGELEDGER_TESTBED_PROFILE") != ""
	if profile {
		u.pprofAddr = b.addr()
	}
	r := b.start("usage", bin, usageConfig(u), nil, sanity, []string{u.grpcAddr}, []string{metricsURL(u.metricsAddr)})

	g := newGenerator(t, u.grpcAddr, mix)
	var rows []results.Row
	for _, ph := range phases() {
		var done chan struct{}
		if profile {
			done = make(chan struct{})
			go func() {
				defer close(done)
				saveProfile(t, u.pprofAddr, filepath.Join(profileDir(), fmt.Sprintf("%s-%s.pprof",
					strings.NewReplacer(" ", "-", ",", "").Replace(pipeline), strings.Fields(ph.name)[0])))
			}()
		}
		rows = append(rows, measure(t, "comparison", pipeline, r, g, ph))
		if done != nil {
			<-done
		}
	}
	if s := g.Stats(); s.FailedAttempts != 0 {
		t.Errorf("the usage pipeline refused %d exports (last: %s); the comparison needs every export acknowledged",
			s.FailedAttempts, s.LastError)
	}

	verdict := checkLedger(t, u.metricsAddr, g.Acked(), []string{month})
	if be != nil {
		checkBackend(t, be, g)
	}
	for _, row := range rows {
		row.Correctness = verdict
		report.Add(row)
	}
	r.checkLimits(t)
	r.stop(t)
}

// TestDoItYourself measures the pipeline a user could assemble from contrib
// parts (diy-pipeline.yaml) on the same load. Its counters cannot be exact
// (no cache pricing, no deprecated names, float sums, no months), so the
// test reports how far they are from the expected totals instead of
// failing on them.
func TestDoItYourself(t *testing.T) {
	bin := diyBinary(t)
	b := newBed(t)
	grpcAddr, promAddr, selfAddr := b.addr(), b.addr(), b.addr()
	config, env := diyConfig(t, grpcAddr, promAddr, selfAddr)
	r := b.start("diy", bin, config, env, sanity, []string{grpcAddr, promAddr}, nil)

	mix := comparisonMix()
	g := newGenerator(t, grpcAddr, mix)
	var rows []results.Row
	for _, ph := range phases() {
		rows = append(rows, measure(t, "comparison", "diy", r, g, ph))
	}

	// The prometheus exporter serves what signaltometrics emitted; wait
	// until two scrapes a second apart agree.
	want := monthless(g.Acked())
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
	for _, row := range rows {
		row.Correctness = verdict
		report.Add(row)
	}
	r.checkLimits(t)
	r.stop(t)
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
