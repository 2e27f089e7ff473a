package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/backend"
	"github.com/usageledger/usageledger/testbed/internal/load"
	"github.com/usageledger/usageledger/testbed/internal/price"
)

// The generator's bookkeeping against the stand-in backend alone: every
// acknowledged span arrives once, the totals add up to the spans sent, and
// a backend that refuses is neither counted nor retried forever.
func TestGeneratorAgainstBackend(t *testing.T) {
	be, err := backend.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Stop()
	mix := load.Mix{Orgs: 3, Agents: 4, Models: price.Models, SpansPerRequest: 64, ResourcesPerRequest: 2, Templates: 4}
	g, err := load.New(be.Addr(), mix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	spans, _ := g.Run(context.Background(), load.Options{Workers: 2, Duration: 5 * time.Second, MaxSpans: 4096})
	if spans < 4096 {
		t.Fatalf("acknowledged %d spans, want at least 4096 (%+v)", spans, g.Stats())
	}
	c := be.Count(g.LastSeq(), g.GaveUp())
	if c.Missing != 0 || c.Duplicated != 0 || c.Beyond != 0 || c.Spans != spans {
		t.Errorf("backend count %+v for %d acknowledged spans", c, spans)
	}
	sum := g.Acked().Sum()
	if sum.Requests != spans {
		t.Errorf("acknowledged totals hold %d calls, want %d", sum.Requests, spans)
	}
	if sum.Blocked == 0 || sum.RateLimited == 0 || sum.Input == 0 || sum.CostPicoUSD == 0 {
		t.Errorf("the mix lacks a kind of call: %+v", sum)
	}
	if n := g.Acked().Connections(); n > 3*4*3 {
		t.Errorf("%d connections; the mix has at most 3 orgs × 4 agents × 3 providers", n)
	}

	be.SetMode(backend.FailRetryable)
	before := g.Acked().Sum().Requests
	_, _ = g.Run(context.Background(), load.Options{Workers: 1, Duration: time.Second, MaxSpans: 64,
		Attempts: 3, RetryWait: 10 * time.Millisecond})
	st := g.Stats()
	if after := g.Acked().Sum().Requests; after != before {
		t.Errorf("refused exports were counted as acknowledged: %d → %d", before, after)
	}
	if st.FailedAttempts == 0 || st.GaveUpSpans == 0 || g.Failed().Sum().Requests == 0 {
		t.Errorf("refused exports were not recorded as failed and given up: %+v", st)
	}
}

// A client told to keep a call until it is acknowledged retries a request
// that is still failing when the run ends, and counts it once it goes
// through; without the option it would give up after the third attempt.
func TestGeneratorRetriesUntilAcknowledged(t *testing.T) {
	be, err := backend.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Stop()
	be.SetMode(backend.FailRetryable)
	mix := load.Mix{Orgs: 1, Agents: 1, Models: price.Models, SpansPerRequest: 64, ResourcesPerRequest: 1, Templates: 1}
	g, err := load.New(be.Addr(), mix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	// The run ends after 200 ms; the backend accepts only from 800 ms on, so
	// the one request is failing when the run ends and goes through later.
	recovered := time.AfterFunc(800*time.Millisecond, func() { be.SetMode(backend.Accept) })
	defer recovered.Stop()
	spans, _ := g.Run(context.Background(), load.Options{Workers: 1, Duration: 200 * time.Millisecond,
		Attempts: 1000, RetryWait: 20 * time.Millisecond, UntilAcknowledged: true})

	st := g.Stats()
	if spans != 64 || st.Spans != 64 || st.GaveUpSpans != 0 {
		t.Fatalf("acknowledged %d spans and gave up %d, want the one request of 64 acknowledged (%+v)",
			spans, st.GaveUpSpans, st)
	}
	// Attempts fail at least from 0 to 800 ms, every 20 ms or slower: more
	// than the three attempts after which a run that ended gives up.
	if st.FailedAttempts <= 3 {
		t.Errorf("%d failed attempts; the backend refused for 800 ms at 20 ms between attempts", st.FailedAttempts)
	}
	if got := g.Acked().Sum().Requests; got != 64 {
		t.Errorf("acknowledged totals hold %d calls, want 64", got)
	}
	if c := be.Count(g.LastSeq(), g.GaveUp()); c.Missing != 0 || c.Duplicated != 0 || c.Spans != 64 {
		t.Errorf("backend count %+v, want each of the 64 spans once", c)
	}
	if n := g.InFlight(); n != 0 {
		t.Errorf("%d export calls in flight after the run, want 0", n)
	}
}
