package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/exposition"
	"github.com/usageledger/usageledger/testbed/internal/load"
	"github.com/usageledger/usageledger/testbed/internal/price"
	"github.com/usageledger/usageledger/testbed/internal/procstat"
	"github.com/usageledger/usageledger/testbed/internal/results"
)

// Goals of the high-cardinality scenario.
const (
	cardinalityMaxRSS    = 300 << 20
	cardinalityMaxScrape = time.Second
)

// TestHighCardinality writes 13 months of history for 100,000 connections
// (100 organizations × 1,000 agents, one model each) through the
// collector, oldest month first, restarts it on that ledger, as a
// deployment or an upgrade does, then keeps a steady load on while
// scraping /metrics, and reports the peak memory of both collectors and the
// scrape time. The restart keeps what writing the history left in memory
// (the ledger file's pages, mapped and resident once written) apart from
// what serving a ledger with that history costs. The exposed months (the
// current and the previous one, the exporter's default) are checked
// exactly. The smoke writes 1,000 connections and checks correctness only.
func TestHighCardinality(t *testing.T) {
	bin := collectorBinary(t)
	b := newBed(t)
	u := usage{grpcAddr: b.addr(), metricsAddr: b.addr(), selfAddr: b.addr(),
		ledgerPath: b.dir + "/usage-ledger.db"}
	limits, connections, steadyFor := procstat.Limits{MaxRSS: cardinalityMaxRSS}, 100_000, 20*time.Second
	if !full() {
		limits, connections, steadyFor = sanity, 1_000, 2*time.Second
	}
	connections = int(envFloat("USAGELEDGER_TESTBED_CONNECTIONS", float64(connections)))
	profile := os.Getenv("USAGELEDGER_TESTBED_PROFILE") != ""
	if profile {
		u.pprofAddr = b.addr()
	}
	// Writing the history is the preparation, not the scenario: its peak
	// memory is reported, not held to a limit.
	r := b.start("usage", bin, usageConfig(u), nil, procstat.Limits{},
		[]string{u.grpcAddr}, []string{metricsURL(u.metricsAddr)})

	end := time.Now().UTC()
	months := []string{end.Format("2006-01"), end.AddDate(0, -1, -end.Day()+1).Format("2006-01")}
	mix := load.Mix{Orgs: 100, Agents: 1000, Models: price.Models, SpansPerRequest: 13 * 20, End: end}
	g := newGenerator(t, u.grpcAddr, mix)

	spans, took := g.Run(context.Background(), load.Options{
		Workers: 4, Duration: 15 * time.Minute, Attempts: 5, RetryWait: 500 * time.Millisecond,
		Sweep: &load.Sweep{Connections: connections, Months: 13},
	})
	t.Logf("history: %d spans for %d connections × 13 months in %s (%.0f spans/s)",
		spans, connections, took.Round(time.Second), float64(spans)/took.Seconds())
	if want := int64(connections) * 13; spans != want {
		t.Fatalf("history: %d spans acknowledged, want %d (stats %+v)", spans, want, g.Stats())
	}
	historyRow := results.Row{Scenario: "high cardinality", Pipeline: "usage", Phase: "history (13 months)",
		Spans: spans, Seconds: took.Seconds(), SpansPerSec: float64(spans) / took.Seconds(),
		PeakRSSMiB: float64(r.watch.PeakRSS()) / (1 << 20)}
	afterHistory := r.watch.Now()
	t.Logf("after the history: RSS %d MiB (anonymous %d MiB, mapped files %d MiB), peak %d MiB",
		afterHistory.RSS>>20, afterHistory.RSSAnon>>20, afterHistory.RSSFile>>20, r.watch.PeakRSS()>>20)
	r.stop(t)
	restarted := time.Now()
	// A collector in a container with a memory limit is run with a
	// GOMEMLIMIT below it; USAGELEDGER_TESTBED_GOMEMLIMIT measures that.
	var env []string
	memLimit := os.Getenv("USAGELEDGER_TESTBED_GOMEMLIMIT")
	if memLimit != "" {
		env = append(env, "GOMEMLIMIT="+memLimit)
	}
	r = b.start("usage", bin, usageConfig(u), env, limits,
		[]string{u.grpcAddr}, []string{metricsURL(u.metricsAddr)})
	restartTook, atStart := time.Since(restarted), r.watch.Now()
	restartedAs := "the collector restarted on the history"
	if memLimit != "" {
		restartedAs += " with GOMEMLIMIT=" + memLimit
	}
	t.Logf("restarted on the ledger of the history in %s: RSS %d MiB (anonymous %d MiB, mapped files %d MiB)",
		restartTook.Round(time.Millisecond), atStart.RSS>>20, atStart.RSSAnon>>20, atStart.RSSFile>>20)

	if profile {
		saveHeapProfile(t, u.pprofAddr, filepath.Join(profileDir(), "high-cardinality-heap-at-start.pprof"))
	}

	// A steady load on the current month while /metrics is scraped.
	var (
		mu      sync.Mutex
		scrapes []time.Duration
		// last is the body of the last scrape, parsed once the load is
		// over: parsing hundreds of megabytes on the load's core would
		// slow the load and space the scrapes out.
		last exposition.Fetched
		errs []error
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 30 && ctx.Err() == nil; i++ {
			f, err := exposition.Fetch(metricsURL(u.metricsAddr), 30*time.Second)
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			} else {
				scrapes = append(scrapes, f.Took)
				last = f
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
	var profiled chan struct{}
	if profile {
		profiled = make(chan struct{})
		go func() {
			defer close(profiled)
			saveProfile(t, u.pprofAddr, filepath.Join(profileDir(), "high-cardinality-scrapes.pprof"))
		}()
	}
	steady := load.Mix{Orgs: 100, Agents: 1000, Models: price.Models, SpansPerRequest: 256,
		ResourcesPerRequest: 2, Templates: 32, End: end}
	gs := newGenerator(t, u.grpcAddr, steady)
	row := measure(t, "high cardinality", "usage", r, gs, phase{name: "load + scrapes",
		options: load.Options{Workers: 2, Rate: envFloat("USAGELEDGER_TESTBED_RATE", 5000), Duration: steadyFor}})
	cancel()
	wg.Wait()
	if profiled != nil {
		<-profiled
	}

	for _, err := range errs {
		t.Errorf("scrape during load: %v", err)
	}
	if len(scrapes) == 0 {
		t.Fatal("no scrape of /metrics succeeded during the load")
	}
	text, err := last.Text()
	if err != nil {
		t.Fatalf("last scrape: %v", err)
	}
	parsed, err := exposition.Parse(text)
	if err != nil {
		t.Fatalf("last scrape: %v", err)
	}
	series, size, sent := parsed.Series("genai_connection_"), len(text), len(last.Body)
	slices.Sort(scrapes)
	median, worst := scrapes[len(scrapes)/2], scrapes[len(scrapes)-1]
	t.Logf("%d scrapes of %d genai_connection_* series (%d MiB): median %s, slowest %s",
		len(scrapes), series, size>>20, median.Round(time.Millisecond), worst.Round(time.Millisecond))

	want := g.Acked()
	want.Merge(gs.Acked())
	verdict := checkLedger(t, u.metricsAddr, want, months)
	historyRow.Correctness = verdict
	final := r.watch.Now()
	row.Correctness = fmt.Sprintf("%s; %d series, scrape median %s, max %s", verdict, series,
		median.Round(time.Millisecond), worst.Round(time.Millisecond))
	report.Add(historyRow)
	report.Add(row)
	report.Note("high cardinality: %d connections (%d ledger rows over 13 months); %d scrapes of %d genai_connection_* series, %.1f MiB each (%.1f MiB gzip-compressed as sent); scrape median %s, slowest %s (goal < %s); peak RSS %.0f MiB (goal < %d MiB) and peak anonymous memory %d MiB in %s, which started in %s; at the end RSS %d MiB of which mapped files %d MiB; the collector that wrote the history peaked at %.0f MiB",
		want.Connections(), len(want), len(scrapes), series, float64(size)/(1<<20), float64(sent)/(1<<20),
		median.Round(time.Millisecond),
		worst.Round(time.Millisecond), cardinalityMaxScrape, row.PeakRSSMiB, cardinalityMaxRSS>>20,
		r.watch.PeakRSSAnon()>>20, restartedAs, restartTook.Round(time.Millisecond), final.RSS>>20, final.RSSFile>>20,
		historyRow.PeakRSSMiB)

	if full() && worst > cardinalityMaxScrape {
		t.Errorf("goal missed: the slowest full /metrics scrape took %s, goal < %s", worst, cardinalityMaxScrape)
	}
	r.checkLimits(t)
	r.stop(t)
}
