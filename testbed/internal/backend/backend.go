// Package backend is a stand-in trace backend: an OTLP/gRPC server in the
// test process that counts the spans it receives by sequence number and can
// be told to fail, permanently or retryably, or to answer slowly.
package backend // import "github.com/usageledger/usageledger/testbed/internal/backend"

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // exporters compress by default
	"google.golang.org/grpc/status"

	"github.com/usageledger/usageledger/testbed/internal/load"
)

// Mode is how the backend answers an export.
type Mode int

const (
	// Accept stores the spans and answers success.
	Accept Mode = iota
	// FailRetryable answers Unavailable without storing the spans; a
	// well-behaved exporter sends them again later.
	FailRetryable
	// FailPermanent answers InvalidArgument without storing the spans; the
	// exporter must drop them.
	FailPermanent
)

// Backend is one running stand-in backend. Its methods are safe for
// concurrent use.
type Backend struct {
	ptraceotlp.UnimplementedGRPCServer

	addr string
	srv  *grpc.Server
	lis  net.Listener

	mu       sync.Mutex
	mode     Mode
	delay    time.Duration
	seen     []uint8 // receptions per sequence number, saturating at 255
	spans    int64   // spans stored
	noSeq    int64   // spans stored without a sequence number
	requests int64   // export calls answered, whatever the answer
	refused  int64   // export calls answered with an error
}

// Start listens on a free loopback port and serves until Stop.
func Start() (*Backend, error) { return StartAt("127.0.0.1:0") }

// StartAt listens on addr, so a backend can come up where a collector
// already tries to export.
func StartAt(addr string) (*Backend, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("backend: listening: %w", err)
	}
	b := &Backend{addr: lis.Addr().String(), lis: lis, srv: grpc.NewServer()}
	ptraceotlp.RegisterGRPCServer(b.srv, b)
	go func() { _ = b.srv.Serve(lis) }()
	return b, nil
}

// Addr is the host:port the backend listens on.
func (b *Backend) Addr() string { return b.addr }

// Stop closes the listener and every connection at once.
func (b *Backend) Stop() { b.srv.Stop() }

// SetMode changes how the following exports are answered.
func (b *Backend) SetMode(m Mode) {
	b.mu.Lock()
	b.mode = m
	b.mu.Unlock()
}

// SetDelay makes every following export wait d before it is answered.
func (b *Backend) SetDelay(d time.Duration) {
	b.mu.Lock()
	b.delay = d
	b.mu.Unlock()
}

// Export implements the OTLP trace service.
func (b *Backend) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	b.mu.Lock()
	mode, delay := b.mode, b.delay
	b.requests++
	b.mu.Unlock()

	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ptraceotlp.NewExportResponse(), ctx.Err()
		}
	}
	switch mode {
	case FailRetryable:
		b.refuse()
		return ptraceotlp.NewExportResponse(), status.Error(codes.Unavailable, "backend: unavailable (injected)")
	case FailPermanent:
		b.refuse()
		return ptraceotlp.NewExportResponse(), status.Error(codes.InvalidArgument, "backend: rejected (injected)")
	}

	rss := req.Traces().ResourceSpans()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				b.spans++
				v, ok := spans.At(k).Attributes().Get(load.SeqAttr)
				if !ok || v.Int() <= 0 {
					b.noSeq++
					continue
				}
				b.mark(v.Int())
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func (b *Backend) refuse() {
	b.mu.Lock()
	b.refused++
	b.mu.Unlock()
}

// mark records one reception of seq; b.mu is held.
func (b *Backend) mark(seq int64) {
	if seq >= int64(len(b.seen)) {
		grown := make([]uint8, max(seq+1, int64(2*len(b.seen))))
		copy(grown, b.seen)
		b.seen = grown
	}
	if b.seen[seq] < 255 {
		b.seen[seq]++
	}
}

// Count is what the backend holds for the sequence numbers 1..last.
type Count struct {
	Spans      int64 // spans stored, including duplicates
	Unique     int64 // sequence numbers seen at least once
	Missing    int64 // acknowledged sequence numbers never seen
	Unacked    int64 // sequence numbers of unacknowledged requests seen anyway
	Duplicated int64 // sequence numbers seen more than once
	Beyond     int64 // spans with a number above last or none at all
	Requests   int64 // export calls answered
	Refused    int64 // export calls answered with an error
}

// Count summarizes the receptions of the sequence numbers 1..last; the
// numbers in gaveUp belong to requests the client never got acknowledged,
// so they may be missing.
func (b *Backend) Count(last int64, gaveUp []load.SeqRange) Count {
	unacked := make(map[int64]bool)
	for _, r := range gaveUp {
		for s := r.First; s <= r.Last; s++ {
			unacked[s] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := Count{Spans: b.spans, Beyond: b.noSeq, Requests: b.requests, Refused: b.refused}
	for seq := int64(1); seq <= last; seq++ {
		n := uint8(0)
		if seq < int64(len(b.seen)) {
			n = b.seen[seq]
		}
		switch {
		case n == 0 && !unacked[seq]:
			c.Missing++
		case n > 0 && unacked[seq]:
			c.Unacked++
		}
		if n > 1 {
			c.Duplicated++
		}
		if n > 0 {
			c.Unique++
		}
	}
	for seq := last + 1; seq < int64(len(b.seen)); seq++ {
		c.Beyond += int64(b.seen[seq])
	}
	return c
}

// WaitFor waits up to timeout until the backend holds every acknowledged
// sequence number 1..last, or until no span arrived for quiet, and returns
// the count it saw last.
func (b *Backend) WaitFor(last int64, gaveUp []load.SeqRange, timeout time.Duration) Count {
	const quiet = 8 * time.Second
	deadline := time.Now().Add(timeout)
	stored, since := int64(-1), time.Now()
	for {
		c := b.Count(last, gaveUp)
		if c.Spans != stored {
			stored, since = c.Spans, time.Now()
		}
		if c.Missing == 0 || time.Now().After(deadline) || time.Since(since) > quiet {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
}
