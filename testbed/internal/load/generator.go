// Package load generates GenAI spans and sends them over OTLP/gRPC at a
// target rate or as fast as the collector accepts, keeping the totals the
// collector's ledger must reach for the exports it acknowledged.
package load // import "github.com/usageledger/usageledger/testbed/internal/load"

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/usageledger/usageledger/testbed/internal/price"
)

// Mix describes who calls which model: Orgs organizations (tenant.id) each
// running Agents agents (service.name), each calling the models at random.
type Mix struct {
	Orgs   int
	Agents int
	Models []price.Model
	// SpansPerRequest and ResourcesPerRequest shape one export request:
	// ResourcesPerRequest agent processes with an equal share of the spans.
	SpansPerRequest     int
	ResourcesPerRequest int
	// Templates is how many distinct requests each worker prepares and then
	// sends again and again with fresh sequence numbers, span ids and token
	// counts, so that building spans does not limit the rate.
	Templates int
	// End is the end time of every call; zero means the time the
	// generator was created.
	End time.Time
}

// Sweep visits Connections connections once per month over Months calendar
// months ending with the month of Mix.End, one call each, the oldest month
// first, as a ledger fills month after month: connection i is agent
// i%Agents of organization i/Agents calling model i%len(Models).
type Sweep struct {
	Connections int
	Months      int
}

// Options are the knobs of one [Generator.Run].
type Options struct {
	Workers int
	// Rate is the target in spans per second over all workers; 0 sends as
	// fast as the collector acknowledges.
	Rate float64
	// Duration bounds the run; MaxSpans, when not 0, ends it earlier.
	Duration time.Duration
	MaxSpans int64
	// Attempts bounds how often one request is sent before the generator
	// gives up on it; retryable failures wait RetryWait between attempts.
	Attempts  int
	RetryWait time.Duration
	// Timeout bounds one export call.
	Timeout time.Duration
	// UntilAcknowledged keeps retrying a request that is in flight when the
	// run ends, up to Attempts, instead of giving up after three attempts:
	// a client that must not lose a call while the collector restarts.
	UntilAcknowledged bool
	// Sweep, when set, replaces the random mix by a walk over connections
	// and months; the run ends when the walk is done.
	Sweep *Sweep
}

// Stats count what happened to the requests of the runs so far.
type Stats struct {
	Requests       int64 // requests acknowledged
	Spans          int64 // spans in acknowledged requests
	FailedAttempts int64 // export calls that returned an error
	FailedSpans    int64 // spans in those calls
	GaveUpSpans    int64 // spans of requests never acknowledged
	Rejected       int64 // requests refused with a permanent error
	// Slowest is the longest wait of an acknowledged request, from its
	// first attempt to its acknowledgment, retries included.
	Slowest   time.Duration
	LastError string
}

// Generator sends the load to one OTLP/gRPC endpoint. Run may be called
// several times; totals and sequence numbers carry over.
type Generator struct {
	mix    Mix
	conn   *grpc.ClientConn
	client ptraceotlp.GRPCClient
	seq    atomic.Int64
	// inFlight counts the export calls sent and not yet answered.
	inFlight atomic.Int64

	mu sync.Mutex
	// acked holds what the ledger must have counted: the calls of every
	// acknowledged request, once.
	acked Totals
	// failed holds the calls of every failed export call: a failure the
	// collector reported after committing (or a crash after the commit)
	// makes the retry count those calls again, so the ledger may exceed
	// acked by at most failed.
	failed Totals
	// abandoned holds the calls of requests the generator gave up on: the
	// collector may have counted them once although it never acknowledged
	// them.
	abandoned Totals
	stats     Stats
	// templates are the prepared requests of each worker, kept across runs.
	templates [][]*request

	// gaveUp lists the sequence-number ranges of requests never
	// acknowledged; a backend may or may not have them.
	gaveUp []SeqRange
}

// SeqRange is the inclusive range First..Last of sequence numbers.
type SeqRange struct{ First, Last int64 }

// New connects a generator to the OTLP/gRPC endpoint addr (host:port).
func New(addr string, mix Mix) (*Generator, error) {
	if mix.SpansPerRequest <= 0 {
		mix.SpansPerRequest = 256
	}
	if mix.ResourcesPerRequest <= 0 {
		mix.ResourcesPerRequest = 1
	}
	if mix.Templates <= 0 {
		mix.Templates = 64
	}
	if mix.End.IsZero() {
		mix.End = time.Now().UTC()
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("load: connecting to %s: %w", addr, err)
	}
	return &Generator{
		mix:       mix,
		conn:      conn,
		client:    ptraceotlp.NewGRPCClient(conn),
		acked:     Totals{},
		failed:    Totals{},
		abandoned: Totals{},
	}, nil
}

// Close ends the connection.
func (g *Generator) Close() error { return g.conn.Close() }

// Acked returns a copy of the totals of all acknowledged calls.
func (g *Generator) Acked() Totals {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.acked.Clone()
}

// Failed returns a copy of the totals of the calls in failed export calls.
func (g *Generator) Failed() Totals {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed.Clone()
}

// Abandoned returns a copy of the totals of the requests given up on.
func (g *Generator) Abandoned() Totals {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.abandoned.Clone()
}

// Stats returns the counts of the runs so far.
func (g *Generator) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// GaveUp returns the sequence-number ranges of requests never acknowledged.
func (g *Generator) GaveUp() []SeqRange {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]SeqRange(nil), g.gaveUp...)
}

// InFlight is the number of export calls sent and not yet answered.
func (g *Generator) InFlight() int64 { return g.inFlight.Load() }

// LastSeq is the highest sequence number sent so far (numbers start at 1).
func (g *Generator) LastSeq() int64 { return g.seq.Load() }

// Run sends load until opts.Duration elapses, opts.MaxSpans spans were
// acknowledged, the sweep is done or ctx ends, and returns the spans
// acknowledged in this run and how long it took.
func (g *Generator) Run(ctx context.Context, opts Options) (int64, time.Duration) {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Duration <= 0 {
		opts.Duration = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()

	if opts.Sweep == nil {
		g.prepare(opts.Workers)
	}
	var (
		wg      sync.WaitGroup
		spans   atomic.Int64
		cursor  atomic.Int64 // next sweep item
		started = time.Now()
	)
	for w := range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{
				g:         g,
				opts:      opts,
				r:         rand.New(rand.NewPCG(uint64(w)+1, uint64(started.UnixNano()))),
				acked:     Totals{},
				failed:    Totals{},
				abandoned: Totals{},
				spans:     &spans,
				cursor:    &cursor,
			}
			if opts.Sweep == nil {
				wk.templates = g.templates[w]
			}
			wk.run(ctx, started)
			g.mu.Lock()
			g.acked.Merge(wk.acked)
			g.failed.Merge(wk.failed)
			g.abandoned.Merge(wk.abandoned)
			g.stats.Requests += wk.stats.Requests
			g.stats.Spans += wk.stats.Spans
			g.stats.FailedAttempts += wk.stats.FailedAttempts
			g.stats.FailedSpans += wk.stats.FailedSpans
			g.stats.GaveUpSpans += wk.stats.GaveUpSpans
			g.stats.Rejected += wk.stats.Rejected
			g.stats.Slowest = max(g.stats.Slowest, wk.stats.Slowest)
			if wk.stats.LastError != "" {
				g.stats.LastError = wk.stats.LastError
			}
			g.gaveUp = append(g.gaveUp, wk.gaveUp...)
			g.mu.Unlock()
		}()
	}
	wg.Wait()
	return spans.Load(), time.Since(started)
}

// prepare builds the templates of workers that have none yet, before a
// run's clock starts.
func (g *Generator) prepare(workers int) {
	for w := len(g.templates); w < workers; w++ {
		r := rand.New(rand.NewPCG(uint64(w)+1000, 42))
		reqs := make([]*request, g.mix.Templates)
		for i := range reqs {
			reqs[i] = g.randomRequest(r)
		}
		g.templates = append(g.templates, reqs)
	}
}

// request is one export request and the calls in it.
type request struct {
	first int64 // sequence number of the first call in this send
	td    ptrace.Traces
	calls []call
	delta []Counters // what each call adds when this send is acknowledged
}

type worker struct {
	g         *Generator
	templates []*request
	opts      Options
	r         *rand.Rand
	acked     Totals
	failed    Totals
	abandoned Totals
	stats     Stats
	gaveUp    []SeqRange
	spans     *atomic.Int64
	cursor    *atomic.Int64
}

func (w *worker) run(ctx context.Context, started time.Time) {
	templates := w.templates
	perWorker := w.opts.Rate / float64(w.opts.Workers)
	var sentHere int64
	for n := 0; ctx.Err() == nil; n++ {
		if w.opts.MaxSpans > 0 && w.spans.Load() >= w.opts.MaxSpans {
			return
		}
		var req *request
		if w.opts.Sweep != nil {
			req = w.g.sweepRequest(w.r, w.opts.Sweep, w.cursor)
			if req == nil {
				return
			}
		} else {
			req = templates[n%len(templates)]
		}
		if perWorker > 0 {
			due := started.Add(time.Duration(float64(sentHere) / perWorker * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
		w.refresh(req)
		if w.send(ctx, req) {
			sentHere += int64(len(req.calls))
		}
	}
}

// refresh gives every call of req a new sequence number, new ids and new
// token counts, and records what acknowledging it adds.
func (w *worker) refresh(req *request) {
	last := w.g.seq.Add(int64(len(req.calls)))
	first := last - int64(len(req.calls)) + 1
	req.first = first
	for i := range req.calls {
		c := &req.calls[i]
		seq := first + int64(i)
		c.seq.SetInt(seq)
		var id [16]byte
		putUint64(id[:8], uint64(seq))
		putUint64(id[8:], w.r.Uint64())
		c.span.SetTraceID(pcommon.TraceID(id))
		c.span.SetSpanID(pcommon.SpanID(id[8:]))
		var in, out int64
		if c.hasUsage() {
			in, out = tokens(w.r)
			c.setTokens(in, out)
		}
		req.delta[i] = c.counters(in, out)
	}
}

func putUint64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// send exports req, retrying retryable failures, and reports whether it was
// acknowledged.
func (w *worker) send(ctx context.Context, req *request) bool {
	exportReq := ptraceotlp.NewExportRequestFromTraces(req.td)
	first := time.Now()
	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(context.Background(), w.opts.Timeout)
		w.g.inFlight.Add(1)
		_, err := w.g.client.Export(callCtx, exportReq, grpc.WaitForReady(true))
		w.g.inFlight.Add(-1)
		cancel()
		if err == nil {
			for i := range req.calls {
				w.acked.add(req.calls[i].key, req.delta[i])
			}
			w.stats.Requests++
			w.stats.Spans += int64(len(req.calls))
			w.stats.Slowest = max(w.stats.Slowest, time.Since(first))
			w.spans.Add(int64(len(req.calls)))
			return true
		}
		w.stats.FailedAttempts++
		w.stats.FailedSpans += int64(len(req.calls))
		w.stats.LastError = err.Error()
		for i := range req.calls {
			w.failed.add(req.calls[i].key, req.delta[i])
		}
		if !Retryable(err) {
			w.stats.Rejected++
			w.giveUp(req)
			return false
		}
		ending := ctx.Err() != nil && attempt >= 3 && !w.opts.UntilAcknowledged
		if attempt >= w.opts.Attempts || ending {
			w.giveUp(req)
			return false
		}
		time.Sleep(w.opts.RetryWait)
	}
}

func (w *worker) giveUp(req *request) {
	for i := range req.calls {
		w.abandoned.add(req.calls[i].key, req.delta[i])
	}
	w.stats.GaveUpSpans += int64(len(req.calls))
	w.gaveUp = append(w.gaveUp, SeqRange{req.first, req.first + int64(len(req.calls)) - 1})
}

// Retryable reports whether an OTLP export error asks the client to send
// the same data again.
func Retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded,
		codes.Aborted, codes.OutOfRange, codes.DataLoss, codes.Canceled:
		return true
	}
	return false
}

// randomRequest builds one request of the random mix.
func (g *Generator) randomRequest(r *rand.Rand) *request {
	m := g.mix
	req := &request{td: ptrace.NewTraces()}
	perResource := max(1, m.SpansPerRequest/m.ResourcesPerRequest)
	for range m.ResourcesPerRequest {
		org := fmt.Sprintf("org-%03d", r.IntN(m.Orgs))
		agent := fmt.Sprintf("agent-%03d", r.IntN(m.Agents))
		rs := req.td.ResourceSpans().AppendEmpty()
		fillResource(rs.Resource(), org, agent)
		// One agent process runs several instrumentations: each shape's
		// calls go to the scope that reports them.
		var scopes [shapeCount]ptrace.SpanSlice
		for range perResource {
			model := m.Models[r.IntN(len(m.Models))]
			shape := pickShape(r)
			if scopes[shape] == (ptrace.SpanSlice{}) {
				ss := rs.ScopeSpans().AppendEmpty()
				name, version := shape.scope()
				ss.Scope().SetName(name)
				ss.Scope().SetVersion(version)
				scopes[shape] = ss.Spans()
			}
			c := fillSpan(scopes[shape].AppendEmpty(), r, shape, model, m.End)
			c.key = Key{Org: org, Connection: agent + "/" + model.Provider, Model: model.Name,
				Month: m.End.UTC().Format("2006-01")}
			req.calls = append(req.calls, c)
		}
	}
	req.delta = make([]Counters, len(req.calls))
	return req
}

// sweepRequest builds the next request of a sweep, or returns nil when the
// sweep is done. Each resource is one connection with one current-names
// call.
func (g *Generator) sweepRequest(r *rand.Rand, s *Sweep, cursor *atomic.Int64) *request {
	m := g.mix
	total := int64(s.Connections) * int64(s.Months)
	perRequest := int64(max(1, m.SpansPerRequest))
	last := cursor.Add(perRequest)
	first := last - perRequest
	if first >= total {
		return nil
	}
	last = min(last, total)
	req := &request{td: ptrace.NewTraces()}
	endMonth := time.Date(m.End.Year(), m.End.Month(), 1, 0, 0, 0, 0, time.UTC)
	for j := first; j < last; j++ {
		back := s.Months - 1 - int(j/int64(s.Connections))
		i := int(j % int64(s.Connections))
		org := fmt.Sprintf("org-%03d", i/m.Agents)
		agent := fmt.Sprintf("agent-%04d", i%m.Agents)
		model := m.Models[i%len(m.Models)]
		rs := req.td.ResourceSpans().AppendEmpty()
		fillResource(rs.Resource(), org, agent)
		month := endMonth.AddDate(0, -back, 0)
		end := month.Add(36 * time.Hour) // the 2nd of the month, 12:00 UTC
		if back == 0 {
			end = m.End
		}
		c := fillSpan(rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty(), r, ShapeCurrent, model, end)
		c.key = Key{Org: org, Connection: agent + "/" + model.Provider, Model: model.Name,
			Month: end.UTC().Format("2006-01")}
		req.calls = append(req.calls, c)
	}
	req.delta = make([]Counters, len(req.calls))
	return req
}
