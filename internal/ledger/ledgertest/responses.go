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

// keyGateway is the row of an LLM gateway's span of a call whose client
// span is booked on keyChat.
var keyGateway = ledger.Key{Org: "acme", Connection: "gateway/openai", Month: "2026-11", Model: "gpt-4o"}

// responseSpan is one span of trace number trace, with span id number span,
// that received the provider's response id, booked on key with team as its
// chargeback label; it is one request of tokens input tokens.
type responseSpan struct {
	trace, span byte
	response    string
	key         ledger.Key
	team        string
	tokens      uint64
}

func (r responseSpan) spanKey() ledger.SpanKey {
	return ledger.SpanKey{Trace: [16]byte{0: 0xc0, 15: r.trace}, Span: [8]byte{0: 0xd0, 7: r.span}}
}

// gatewaySpan and clientSpan are the two spans of one call with response
// id "chatcmpl-42" in trace 1: the gateway's and the client's.
var (
	gatewaySpan = responseSpan{1, 1, "chatcmpl-42", keyGateway, "platform", 120}
	clientSpan  = responseSpan{1, 2, "chatcmpl-42", keyChat, "support", 120}
)

// responseDelivery is one export of spans at arrival. It returns the batch
// and what AddSpan said of each span.
func responseDelivery(arrival time.Time, window time.Duration, maxEntries int,
	spans ...responseSpan,
) (*ledger.Batch, []ledger.Repeat) {
	b := ledger.NewBatch()
	b.SetDedup(ledger.Dedup{Arrival: arrival, Window: window, MaxEntries: maxEntries})
	repeats := make([]ledger.Repeat, 0, len(spans))
	for _, s := range spans {
		k := s.spanKey()
		repeats = append(repeats, b.AddSpan(k, ledger.SpanCall{
			Key:      s.key,
			Counters: ledger.Counters{Requests: 1, InputTokens: s.tokens, LastSeen: int64(s.span)},
			Info:     ledger.CallInfo(s.team, "", int64(s.span)),
			Response: ledger.NewResponseKey(k.Trace, s.response),
		}))
	}
	return b, repeats
}

func commitResponses(t *testing.T, s ledger.Store, arrival time.Time, window time.Duration, maxEntries int,
	spans ...responseSpan,
) ledger.CommitResult {
	t.Helper()
	b, _ := responseDelivery(arrival, window, maxEntries, spans...)
	return mustCommit(t, s, b)
}

func testResponseOnce(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// The gateway's span arrives first and counts: its span key and its
	// response key are recorded.
	res := commitResponses(t, s, dayOne, time.Hour, 0, gatewaySpan)
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 2}, res)
	// The client's span of the same call, in a later export, is a duplicate
	// by its response; it records nothing.
	res = commitResponses(t, s, dayOne.Add(time.Minute), time.Hour, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 2}, res)
	// A retry of the gateway's export is a duplicate by its span; one of
	// the client's is again a duplicate by its response.
	res = commitResponses(t, s, dayOne.Add(2*time.Minute), time.Hour, 0, gatewaySpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, Recorded: 2}, res)
	res = commitResponses(t, s, dayOne.Add(3*time.Minute), time.Hour, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 2}, res)

	// One call, with the gateway span's identity: 1 request of 120 tokens
	// on gateway/openai, labelled "platform"; nothing on the client's row.
	rows := read(t, s, "2026-11")
	assert.Equal(t, map[ledger.Key]ledger.Counters{
		keyGateway: {Requests: 1, InputTokens: 120, LastSeen: 1},
	}, rows)
	assert.Equal(t, []ledger.Connection{{
		ConnectionID:   ledger.ConnectionID{Org: "acme", Connection: "gateway/openai"},
		ConnectionInfo: ledger.CallInfo("platform", "", 1),
	}}, connections(t, s))
}

func testResponseOtherTrace(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// The same response id in trace 2 is another call, and so is another
	// response id in trace 1: each counts and records two keys.
	first := responseSpan{1, 1, "chatcmpl-42", keyChat, "", 10}
	otherTrace := responseSpan{2, 1, "chatcmpl-42", keyChat, "", 20}
	otherID := responseSpan{1, 3, "chatcmpl-43", keyChat, "", 30}
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 2}, commitResponses(t, s, dayOne, time.Hour, 0, first))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 4},
		commitResponses(t, s, dayOne, time.Hour, 0, otherTrace))
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 6}, commitResponses(t, s, dayOne, time.Hour, 0, otherID))

	// 3 requests, 10+20+30 = 60 tokens.
	got, tokens := requests(t, s)
	assert.Equal(t, uint64(3), got)
	assert.Equal(t, uint64(60), tokens)
}

func testResponseOneBatch(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// One export holds the gateway's span, the client's span of the same
	// response, the gateway's span again and a span without a response id.
	noResponse := responseSpan{1, 3, "", keyChat, "", 7}
	b, repeats := responseDelivery(dayOne, time.Hour, 0, gatewaySpan, clientSpan, gatewaySpan, noResponse)
	assert.Equal(t, []ledger.Repeat{
		ledger.NotRepeated, ledger.RepeatedResponse, ledger.RepeatedSpan, ledger.NotRepeated,
	}, repeats)
	// The gateway's span (span key and response key) and span 3 (span key
	// only) count: 2 calls, 3 keys.
	assert.Equal(t, ledger.CommitResult{Counted: 2, Recorded: 3}, mustCommit(t, s, b))
	rows := read(t, s, "2026-11")
	assert.Equal(t, uint64(1), rows[keyGateway].Requests)
	assert.Equal(t, uint64(1), rows[keyChat].Requests)
	assert.Equal(t, uint64(7), rows[keyChat].InputTokens)

	// The client's span, which the batch left out, is recognized later too.
	res := commitResponses(t, s, dayOne.Add(time.Minute), time.Hour, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 3}, res)
}

func testResponseFailedCommit(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// The gateway's export fails (one of its rows has no valid month): it
	// records neither the span key nor the response key.
	b, _ := responseDelivery(dayOne, time.Hour, 0, gatewaySpan)
	b.Add(ledger.Key{Org: "acme", Connection: "c", Month: "2026-13", Model: "m"}, ledger.Counters{Requests: 1})
	_, err := s.Commit(context.Background(), b)
	require.Error(t, err)

	// So the client's span of the same call counts, and is the one committed
	// first: the gateway's retry is then a duplicate by the response.
	res := commitResponses(t, s, dayOne.Add(time.Second), time.Hour, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Counted: 1, Recorded: 2}, res)
	res = commitResponses(t, s, dayOne.Add(2*time.Second), time.Hour, 0, gatewaySpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 2}, res)

	rows := read(t, s, "2026-11")
	assert.Equal(t, map[ledger.Key]ledger.Counters{
		keyChat: {Requests: 1, InputTokens: 120, LastSeen: 2},
	}, rows)
}

func testResponseReopen(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	commitResponses(t, s, dayOne, 24*time.Hour, 0, gatewaySpan)
	require.NoError(t, s.Close())

	// After a restart, six hours later, the client's span of the same call
	// is still recognized.
	s = open(t)
	defer s.Close()
	res := commitResponses(t, s, dayOne.Add(6*time.Hour), 24*time.Hour, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 2}, res)
}

func testResponseWindow(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()
	const window = time.Hour

	commitResponses(t, s, dayOne, window, 0, gatewaySpan)
	// Exactly one window after the gateway's span arrived, the client's
	// span is still a duplicate.
	res := commitResponses(t, s, dayOne.Add(window), window, 0, clientSpan)
	assert.Equal(t, int64(1), res.ResponseDuplicates)

	// One nanosecond later the response key has expired: a third span of
	// the response counts and records it anew (span 3's key and the
	// response: 2 added), and the gateway span's key expires (1 removed).
	third := responseSpan{1, 3, "chatcmpl-42", keyChat, "", 5}
	res = commitResponses(t, s, dayOne.Add(window+time.Nanosecond), window, 0, third)
	assert.Equal(t, ledger.CommitResult{Counted: 1, Expired: 1, Recorded: 2}, res)

	// The gateway's 120 tokens and span 3's 5: 2 requests.
	rows := read(t, s, "2026-11")
	assert.Equal(t, uint64(1), rows[keyGateway].Requests)
	assert.Equal(t, uint64(1), rows[keyChat].Requests)
	assert.Equal(t, uint64(5), rows[keyChat].InputTokens)
}

func testResponseBound(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// At most 3 keys, and every counted call with a response records 2.
	calls := []responseSpan{
		{1, 1, "r1", keyChat, "", 1},
		{2, 1, "r2", keyChat, "", 1},
		{3, 1, "r3", keyChat, "", 1},
	}
	want := []ledger.CommitResult{
		{Counted: 1, Recorded: 2},
		{Counted: 1, Evicted: 1, Recorded: 3}, // 4 keys, the oldest goes
		{Counted: 1, Evicted: 2, Recorded: 3}, // 5 keys: the rest of r1's and one of r2's go
	}
	for i, c := range calls {
		res := commitResponses(t, s, dayOne.Add(time.Duration(i)*time.Second), time.Hour, 3, c)
		assert.Equal(t, want[i], res, "call %s", c.response)
	}

	// Both keys of r3, the newest, are kept; both of r1 were forgotten
	// early. So a second span of r1 counts again, the cost of the bound,
	// while one of r3 does not.
	res := commitResponses(t, s, dayOne.Add(3*time.Second), time.Hour, 3,
		responseSpan{1, 2, "r1", keyChat, "", 1}, responseSpan{3, 2, "r3", keyChat, "", 1})
	assert.Equal(t, ledger.CommitResult{
		Counted: 1, Duplicates: 1, ResponseDuplicates: 1, Evicted: 2, Recorded: 3,
	}, res)
	got, _ := requests(t, s)
	assert.Equal(t, uint64(4), got)
}

func testResponseConcurrent(t *testing.T, open func(t *testing.T) ledger.Store) {
	stores := []ledger.Store{open(t), open(t)}
	defer func() {
		for _, s := range stores {
			require.NoError(t, s.Close())
		}
	}()

	// 8 writers each deliver their own span of the same 20 calls at once,
	// as several collectors receiving a gateway's and clients' spans would:
	// call n is trace n with response "resp-n" and n input tokens.
	const writers = 8
	var (
		wg                   sync.WaitGroup
		mu                   sync.Mutex
		counted, byResponses int64
	)
	for w := range writers {
		wg.Go(func() {
			spans := make([]responseSpan, 20)
			for i := range spans {
				n := byte(i + 1)
				spans[i] = responseSpan{n, byte(w + 1), "resp-" + string(rune('a'+i)), keyChat, "", uint64(n)}
			}
			b, _ := responseDelivery(dayOne, time.Hour, 0, spans...)
			res, err := stores[w%2].Commit(context.Background(), b)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			counted += res.Counted
			byResponses += res.ResponseDuplicates
			mu.Unlock()
		})
	}
	wg.Wait()

	assert.Equal(t, int64(20), counted)
	assert.Equal(t, int64(20*(writers-1)), byResponses)
	got, tokens := requests(t, stores[0])
	assert.Equal(t, uint64(20), got)
	assert.Equal(t, uint64(20*21/2), tokens) // 1+2+…+20
}

func testResponseDedupOff(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// A zero window checks no key: both spans of the call count.
	res := commitResponses(t, s, dayOne, 0, 0, gatewaySpan)
	assert.Equal(t, ledger.CommitResult{Counted: 1}, res)
	res = commitResponses(t, s, dayOne, 0, 0, clientSpan)
	assert.Equal(t, ledger.CommitResult{Counted: 1}, res)
	rows := read(t, s, "2026-11")
	assert.Equal(t, uint64(1), rows[keyGateway].Requests)
	assert.Equal(t, uint64(1), rows[keyChat].Requests)
}
