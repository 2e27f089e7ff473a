package ledgertest // import "github.com/usageledger/usageledger/internal/ledger/ledgertest"

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

// dayOne is the arrival of the first delivery in the dedup cases.
var dayOne = time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)

// spanKey returns a span key whose trace and span ids both end in n.
func spanKey(n byte) ledger.SpanKey {
	var s ledger.SpanKey
	s.Trace[15], s.Span[7] = n, n
	s.Trace[0], s.Span[0] = 0xa0, 0xb0
	return s
}

// delivery is one export of the spans n... at arrival: each span is one
// request with n input tokens on keyChat.
func delivery(arrival time.Time, window time.Duration, maxEntries int, spans ...byte) *ledger.Batch {
	b := ledger.NewBatch()
	b.SetDedup(ledger.Dedup{Arrival: arrival, Window: window, MaxEntries: maxEntries})
	for _, n := range spans {
		b.AddSpan(spanKey(n), ledger.SpanCall{
			Key:      keyChat,
			Counters: ledger.Counters{Requests: 1, InputTokens: uint64(n), LastSeen: int64(n)},
			Info:     ledger.CallInfo("support", "", int64(n)),
		})
	}
	return b
}

func requests(t *testing.T, s ledger.Store) (uint64, uint64) {
	t.Helper()
	c := read(t, s, "2026-11")[keyChat]
	return c.Requests, c.InputTokens
}

func testDedupOnce(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	res := mustCommit(t, s, delivery(dayOne, time.Hour, 0, 1, 2, 3))
	assert.Equal(t, ledger.CommitResult{Counted: 3, Recorded: 3}, res)

	// A retry of the whole delivery a minute later, and one that overlaps it
	// with a new span 4: only span 4 counts.
	res = mustCommit(t, s, delivery(dayOne.Add(time.Minute), time.Hour, 0, 1, 2, 3))
	assert.Equal(t, ledger.CommitResult{Duplicates: 3, Recorded: 3}, res)
	res = mustCommit(t, s, delivery(dayOne.Add(2*time.Minute), time.Hour, 0, 3, 4))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Duplicates: 1, Recorded: 4}, res)

	// Spans 1 to 4 once each: 4 requests, 1+2+3+4 = 10 tokens.
	got, tokens := requests(t, s)
	assert.Equal(t, uint64(4), got)
	assert.Equal(t, uint64(10), tokens)

	// The same span twice in one batch counts once.
	b := delivery(dayOne.Add(3*time.Minute), time.Hour, 0, 5)
	assert.Equal(t, ledger.RepeatedSpan,
		b.AddSpan(spanKey(5), ledger.SpanCall{Key: keyChat, Counters: ledger.Counters{Requests: 1}}))
	mustCommit(t, s, b)
	got, tokens = requests(t, s)
	assert.Equal(t, uint64(5), got)
	assert.Equal(t, uint64(15), tokens)
}

func testDedupReopen(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	mustCommit(t, s, delivery(dayOne, 24*time.Hour, 0, 1, 2))
	require.NoError(t, s.Close())

	// A persistent queue replays the delivery after a restart, hours later.
	s = open(t)
	defer s.Close()
	res := mustCommit(t, s, delivery(dayOne.Add(6*time.Hour), 24*time.Hour, 0, 1, 2, 3))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Duplicates: 2, Recorded: 3}, res)
	got, tokens := requests(t, s)
	assert.Equal(t, uint64(3), got)
	assert.Equal(t, uint64(1+2+3), tokens)
}

func testDedupWindow(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()
	const window = time.Hour

	mustCommit(t, s, delivery(dayOne, window, 0, 1))
	mustCommit(t, s, delivery(dayOne.Add(30*time.Minute), window, 0, 2))

	// Exactly one window after span 1 arrived it is still a duplicate.
	res := mustCommit(t, s, delivery(dayOne.Add(window), window, 0, 1))
	assert.Equal(t, int64(1), res.Duplicates)

	// One nanosecond later span 1 has expired: it is removed by this commit
	// and a new delivery of it counts again. Span 2 (30 minutes old) stays.
	later := dayOne.Add(window + time.Nanosecond)
	res = mustCommit(t, s, delivery(later, window, 0, 9))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Expired: 1, Recorded: 2}, res)
	res = mustCommit(t, s, delivery(later, window, 0, 1, 2))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Duplicates: 1, Recorded: 3}, res)

	// Spans 1, 2, 9 and 1 again: 4 requests, 1+2+9+1 = 13 tokens.
	got, tokens := requests(t, s)
	assert.Equal(t, uint64(4), got)
	assert.Equal(t, uint64(13), tokens)
}

func testDedupBound(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// At most 3 keys: the fourth and fifth push out the two oldest.
	for i, n := range []byte{1, 2, 3, 4, 5} {
		res := mustCommit(t, s, delivery(dayOne.Add(time.Duration(i)*time.Second), time.Hour, 3, n))
		assert.Equal(t, int64(min(i+1, 3)), res.Recorded, "span %d", n)
		if i >= 3 {
			assert.Equal(t, int64(1), res.Evicted, "span %d", n)
		}
	}
	// Spans 1 and 2 were forgotten early: a late retry of them counts again,
	// while 5 is still known. That is the cost of the bound.
	res := mustCommit(t, s, delivery(dayOne.Add(10*time.Second), time.Hour, 3, 1, 5))
	assert.Equal(t, int64(1), res.Counted)
	assert.Equal(t, int64(1), res.Duplicates)
	got, _ := requests(t, s)
	assert.Equal(t, uint64(6), got) // 5 spans, then span 1 again
}

func testDedupFailedCommit(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// A batch that fails (one row has no valid month) records none of its
	// spans, so its retry counts them.
	b := delivery(dayOne, time.Hour, 0, 1, 2)
	b.Add(ledger.Key{Org: "acme", Connection: "c", Month: "2026-13", Model: "m"}, ledger.Counters{Requests: 1})
	_, err := s.Commit(context.Background(), b)
	require.Error(t, err)

	res := mustCommit(t, s, delivery(dayOne.Add(time.Second), time.Hour, 0, 1, 2))
	assert.Equal(t, ledger.CommitResult{Counted: 2, Recorded: 2}, res)
	got, _ := requests(t, s)
	assert.Equal(t, uint64(2), got)
}

func testDedupConcurrent(t *testing.T, open func(t *testing.T) ledger.Store) {
	stores := []ledger.Store{open(t), open(t)}
	defer func() {
		for _, s := range stores {
			require.NoError(t, s.Close())
		}
	}()

	// 8 writers deliver the same 20 spans at once, as a client retrying
	// while the first attempt is still in flight.
	const writers = 8
	spans := make([]byte, 20)
	for i := range spans {
		spans[i] = byte(i + 1)
	}
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		counted    int64
		duplicates int64
	)
	for w := range writers {
		wg.Go(func() {
			res, err := stores[w%2].Commit(context.Background(), delivery(dayOne, time.Hour, 0, spans...))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			counted += res.Counted
			duplicates += res.Duplicates
			mu.Unlock()
		})
	}
	wg.Wait()

	assert.Equal(t, int64(20), counted)
	assert.Equal(t, int64(20*(writers-1)), duplicates)
	got, tokens := requests(t, stores[0])
	assert.Equal(t, uint64(20), got)
	assert.Equal(t, uint64(20*21/2), tokens) // 1+2+…+20
}

func testDedupOff(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// A zero window neither checks nor records.
	res := mustCommit(t, s, delivery(dayOne, 0, 0, 1, 2))
	assert.Equal(t, ledger.CommitResult{Counted: 2}, res)
	res = mustCommit(t, s, delivery(dayOne, 0, 0, 1, 2))
	assert.Equal(t, ledger.CommitResult{Counted: 2}, res)
	got, _ := requests(t, s)
	assert.Equal(t, uint64(4), got)

	// Keys were not recorded, so turning dedup on later does not see them.
	res = mustCommit(t, s, delivery(dayOne, time.Hour, 0, 1))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 1}, res)
}

func testDedupZeroIDs(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// A span whose trace id or span id is all zeros cannot be told apart
	// from another: each delivery counts.
	var noTrace, noSpan ledger.SpanKey
	noTrace.Span[0] = 1
	noSpan.Trace[0] = 1
	for range 2 {
		b := ledger.NewBatch()
		b.SetDedup(ledger.Dedup{Arrival: dayOne, Window: time.Hour})
		for _, k := range []ledger.SpanKey{noTrace, noSpan} {
			b.AddSpan(k, ledger.SpanCall{Key: keyChat, Counters: ledger.Counters{Requests: 1}})
		}
		res := mustCommit(t, s, b)
		assert.Equal(t, ledger.CommitResult{Counted: 2}, res)
	}
	got, _ := requests(t, s)
	assert.Equal(t, uint64(4), got)
}
