package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/usageledger/usageledger/testbed/internal/exposition"
	"github.com/usageledger/usageledger/testbed/internal/load"
	"github.com/usageledger/usageledger/testbed/internal/procstat"
	"github.com/usageledger/usageledger/testbed/internal/results"
)

// crashVariant is one way of stopping the collector in the crash rounds.
type crashVariant struct {
	name string
	// kill stops the collector with SIGKILL; otherwise with SIGTERM.
	kill bool
	// queue puts a persistent sending queue (file_storage) in front of the
	// ledger.
	queue bool
}

var crashVariants = []crashVariant{
	{name: "kill -9", kill: true},
	{name: "sigterm"},
	{name: "kill -9, persistent queue", kill: true, queue: true},
}

// crashPlan is how many rounds run and when in each the collector stops.
type crashPlan struct {
	rounds int
	// budget bounds all variants together; a variant stops starting rounds
	// once its share is spent.
	budget time.Duration
	// The stop comes at a random moment between earliest and latest after
	// a round's load started; the load runs for load.Duration in all, so it
	// goes on against the restarted collector.
	earliest, latest time.Duration
	load             load.Options
}

func crashRoundsPlan() crashPlan {
	p := crashPlan{rounds: 3, budget: 100 * time.Second,
		earliest: 300 * time.Millisecond, latest: 1500 * time.Millisecond}
	if full() {
		p.rounds, p.budget, p.latest = 50, 10*time.Minute, 2*time.Second
	}
	if n, err := strconv.Atoi(os.Getenv("USAGELEDGER_TESTBED_CRASH_ROUNDS")); err == nil && n > 0 {
		p.rounds = n
	}
	// Four clients sending as fast as the collector acknowledges, so that
	// exports are in flight at the stop; each keeps an export it has not
	// seen acknowledged until it is, as an SDK exporter retries (a restart
	// takes a second or two, far below 400 attempts 200 ms apart).
	p.load = load.Options{Workers: 4, Duration: p.latest + 700*time.Millisecond, Attempts: 400,
		RetryWait: 200 * time.Millisecond, Timeout: 5 * time.Second, UntilAcknowledged: true}
	return p
}

// crashSeed is USAGELEDGER_TESTBED_SEED, or the clock when it is not set.
func crashSeed() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("USAGELEDGER_TESTBED_SEED"), 10, 64); err == nil {
		return s
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashRounds stops the collector at random moments while exports are
// in flight, restarts it on the same ledger file, lets the client resend
// every export it did not see acknowledged (same trace and span ids, which
// the ledger's dedup recognizes), and after every round requires each
// ledger counter to equal the totals of what was sent, exactly: every call
// counted once, none lost and none twice. The client never gives up, so
// "sent" and "acknowledged" are the same calls.
//
// With the persistent sending queue, acknowledged means "in the queue on
// disk": after a kill the queue replays what it had not marked done, some
// of it already committed to the ledger, and the client resends what was
// in flight, some of it already in the queue. Once the queue has drained,
// the ledger must again hold every acknowledged call exactly once.
func TestCrashRounds(t *testing.T) {
	bin := collectorBinary(t)
	plan := crashRoundsPlan()
	seed := crashSeed()
	t.Logf("crash rounds: seed %d (USAGELEDGER_TESTBED_SEED=%d repeats the stop moments), %d rounds per variant, at most %s in all",
		seed, seed, plan.rounds, plan.budget)
	deadline := time.Now().Add(plan.budget)
	for i, v := range crashVariants {
		t.Run(v.name, func(t *testing.T) {
			share := time.Until(deadline) / time.Duration(len(crashVariants)-i)
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			runCrashRounds(t, bin, v, plan, time.Now().Add(share), rng, seed)
		})
	}
}

func runCrashRounds(t *testing.T, bin string, v crashVariant, plan crashPlan, deadline time.Time, rng *rand.Rand, seed uint64) {
	c := newCrashRun(t, bin, v.queue)
	row := results.CrashRow{Variant: v.name, RoundsPlanned: plan.rounds, Seed: seed}
	started := time.Now()
	for round := 1; round <= plan.rounds; round++ {
		if round > 1 && time.Now().After(deadline) {
			t.Logf("time bound reached after %d of %d rounds", round-1, plan.rounds)
			break
		}
		before := c.g.Stats()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.g.Run(context.Background(), plan.load)
		}()
		at := plan.earliest + time.Duration(rng.Int64N(int64(plan.latest-plan.earliest)))
		time.Sleep(at)
		inFlight := c.g.InFlight()
		c.stop(t, v.kill)
		c.start(t)
		replayed := c.replayed(t)
		<-done
		if v.queue {
			c.drain(t)
		}
		dups := c.duplicates(t)

		st := c.g.Stats()
		row.Rounds = round
		row.InFlight += inFlight
		if inFlight > 0 {
			row.StoppedInFlight++
		}
		row.Retried += st.FailedSpans - before.FailedSpans
		row.Replayed += replayed
		row.Duplicates += dups
		t.Logf("round %d: stopped at %s with %d exports in flight; %d spans acknowledged, %d retried, %d replayed from the queue, %d duplicates skipped",
			round, at.Round(time.Millisecond), inFlight, st.Spans-before.Spans, st.FailedSpans-before.FailedSpans, replayed, dups)
		if st.GaveUpSpans != 0 || st.Rejected != 0 {
			row.Correctness = fmt.Sprintf("WRONG: %d spans given up in round %d", st.GaveUpSpans, round)
			c.record(row, started)
			t.Fatalf("round %d: the client gave up on %d spans (%d requests refused permanently; last error %q): every call must end acknowledged",
				round, st.GaveUpSpans, st.Rejected, st.LastError)
		}
		diffs, lost, doubled := c.compare(t)
		row.Lost, row.Doubled = lost, doubled
		if len(diffs) > 0 {
			row.Correctness = fmt.Sprintf("WRONG after round %d: %d rows differ", round, len(diffs))
			c.record(row, started)
			t.Fatalf("round %d (stopped at %s, seed %d): the ledger differs from the %s acknowledged; %d calls lost, %d counted twice:\n%s",
				round, at.Round(time.Millisecond), seed, c.g.Acked().Summary(), lost, doubled, joinLines(diffs))
		}
	}

	row.Correctness = fmt.Sprintf("exact after every round (%d rows)", len(c.g.Acked()))
	row = c.record(row, started)
	t.Logf("%s: %d rounds, %d of them stopped with exports in flight; %d spans acknowledged, %d retried, %d replayed, %d duplicates skipped; ledger equals %s",
		v.name, row.Rounds, row.StoppedInFlight, row.Acked, row.Retried, row.Replayed, row.Duplicates, c.g.Acked().Summary())
	c.stop(t, false)
}

// record completes row with the run's totals and adds it to the report.
func (c *crashRun) record(row results.CrashRow, started time.Time) results.CrashRow {
	row.Acked = c.g.Stats().Spans
	row.Seconds = time.Since(started).Seconds()
	row.PeakRSSMiB = float64(max(c.peakRSS, c.r.watch.PeakRSS())) / (1 << 20)
	row.PeakAnonMiB = float64(max(c.peakAnon, c.r.watch.PeakRSSAnon())) / (1 << 20)
	if fi, err := os.Stat(c.u.ledgerPath); err == nil {
		row.LedgerMiB = float64(fi.Size()) / (1 << 20)
	}
	report.AddCrash(row)
	return row
}

// crashRun is one collector of the crash rounds, restarted on the same
// addresses, ledger file and queue folder.
type crashRun struct {
	b   *bed
	bin string
	u   usage
	r   *running
	g   *load.Generator
	// peakRSS and peakAnon are the highest resident and anonymous memory
	// of the collectors stopped so far.
	peakRSS, peakAnon int64
}

func newCrashRun(t *testing.T, bin string, queue bool) *crashRun {
	b := newBed(t)
	c := &crashRun{b: b, bin: bin}
	c.u = usage{grpcAddr: b.addr(), metricsAddr: b.addr(), selfAddr: b.addr(),
		ledgerPath: b.dir + "/usage-ledger.db", pinned: []string{time.Now().UTC().Format("2006-01")}}
	if queue {
		c.u.queueDir = b.dir + "/queue"
		if err := os.MkdirAll(c.u.queueDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.start(t)
	mix := comparisonMix()
	mix.End = time.Now().UTC()
	c.g = newGenerator(t, c.u.grpcAddr, mix)
	return c
}

func (c *crashRun) start(t *testing.T) {
	t.Helper()
	c.r = c.b.start("usage", c.bin, usageConfig(c.u), nil, crashLimits, []string{c.u.grpcAddr},
		[]string{metricsURL(c.u.metricsAddr), metricsURL(c.u.selfAddr)})
}

// crashLimits bound the heap of the collectors of the crash rounds. Their
// resident memory as a whole grows with the ledger file, which they map:
// every call adds its dedup keys to the file for dedup::window (24 h).
var crashLimits = procstat.Limits{MaxRSSAnon: 512 << 20}

// stop ends the running collector with SIGKILL or SIGTERM.
func (c *crashRun) stop(t *testing.T, kill bool) {
	t.Helper()
	if kill {
		c.r.watch.Stop()
		c.r.proc.Kill()
	} else {
		c.r.stop(t)
	}
	c.r.checkLimits(t)
	c.peakRSS = max(c.peakRSS, c.r.watch.PeakRSS())
	c.peakAnon = max(c.peakAnon, c.r.watch.PeakRSSAnon())
}

// replayed reads, from the log of the collector just started, how many
// spans its persistent queue held and delivers again: those of requests
// not yet read and of requests being sent when the last process ended.
func (c *crashRun) replayed(t *testing.T) int64 {
	t.Helper()
	if c.u.queueDir == "" {
		return 0
	}
	data, err := os.ReadFile(c.r.proc.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	spans, ok := queueBacklog(string(data))
	if !ok {
		t.Fatalf("the restarted collector did not log its queue's metadata (\"Loaded queue metadata\" with itemsSize):\n%s",
			tail(c.r.proc.LogPath()))
	}
	return spans
}

// drain waits until the sending queue is empty and the ledger's request
// total has not moved for a second.
func (c *crashRun) drain(t *testing.T) {
	t.Helper()
	const timeout = 60 * time.Second
	deadline := time.Now().Add(timeout)
	last, stableSince := int64(-1), time.Now()
	for {
		self, err := exposition.Get(metricsURL(c.u.selfAddr), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		queued, ok := self.Total("otelcol_exporter_queue_size")
		if !ok {
			t.Fatalf("the collector's own metrics have no otelcol_exporter_queue_size: cannot tell when the queue is empty")
		}
		ledger, err := exposition.Get(metricsURL(c.u.metricsAddr), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := ledger.Rows(exposition.Ledger)
		n := rows.Sum().Requests
		if queued != 0 || n != last {
			last, stableSince = n, time.Now()
		} else if time.Since(stableSince) >= time.Second {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sending queue not drained within %s: %v requests queued, ledger at %d requests", timeout, queued, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// duplicates is the spans the running collector's ledger skipped as
// already counted, from its own metrics.
func (c *crashRun) duplicates(t *testing.T) int64 {
	t.Helper()
	self, err := exposition.Get(metricsURL(c.u.selfAddr), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := self.Total("otelcol_exporter_usageledger_duplicate_spans")
	return int64(n)
}

// compare requires the ledger to equal the acknowledged totals exactly and
// returns the differences, with the calls lost and counted twice.
func (c *crashRun) compare(t *testing.T) (diffs []string, lost, doubled int64) {
	t.Helper()
	s, err := exposition.Get(metricsURL(c.u.metricsAddr), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, other := s.Rows(exposition.Ledger)
	acked := c.g.Acked()
	diffs = exposition.Exact(acked, got, c.u.pinned, 20)
	for typ, v := range other {
		if v != 0 {
			diffs = append(diffs, fmt.Sprintf("tokens of type %q: got %v, want 0 (the load has none)", typ, v))
		}
	}
	_, l, excess := exposition.Bounded(acked, load.Totals{}, got, c.u.pinned, 0)
	return diffs, l.Requests, excess.Requests
}

// queueItems is the span count of the persistent queue's "Loaded queue
// metadata" log line.
var queueItems = regexp.MustCompile(`Loaded queue metadata\t.*"itemsSize": (\d+)`)

// queueBacklog returns the spans the persistent queue found on disk at
// start, from a collector log: its itemsSize counts the spans of every
// request written and not yet marked done, whether unread or being sent
// when the previous process ended.
func queueBacklog(log string) (int64, bool) {
	m := queueItems.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil
}
