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
