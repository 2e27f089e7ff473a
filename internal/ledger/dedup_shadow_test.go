package ledger

import (
	"bytes"
	"context"
	"hash/maphash"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sharedFingerprintStore is a ledger file whose dedup index gives the
// keys shared one fingerprint, and every other key its own, and that
// commits calls of one row with a window of 300 s.
type sharedFingerprintStore struct {
	t    *testing.T
	path string
	opts openOptions
	s    *fileStore
}

const sharedWindow = 300 * time.Second

var sharedT0 = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

// newSharedFingerprintStore opens the store; trimFloor 0 keeps minTrim.
func newSharedFingerprintStore(t *testing.T, trimFloor int64, shared ...SpanKey) *sharedFingerprintStore {
	records := make([][]byte, len(shared))
	for i, k := range shared {
		records[i] = appendSpanRecord(nil, k)
	}
	seed := maphash.MakeSeed()
	x := &sharedFingerprintStore{t: t, path: filepath.Join(t.TempDir(), "ledger.db"),
		opts: openOptions{lockTimeout: time.Second, noSync: true, trimFloor: trimFloor,
			fingerprint: func(key []byte) uint64 {
				for _, r := range records {
					if bytes.Equal(key, r) {
						return 7 << 24
					}
				}
				return maphash.Bytes(seed, key)
			}}}
	x.reopen()
	t.Cleanup(func() { _ = x.s.close() })
	return x
}

// reopen closes the file, if open, and opens it again.
func (x *sharedFingerprintStore) reopen() {
	if x.s != nil {
		require.NoError(x.t, x.s.close())
	}
	var err error
	x.s, err = openFileStore(x.path, x.opts)
	require.NoError(x.t, err)
	requireIndexMatchesLog(x.t, x.s)
}

// commit commits one call of each span key arriving at at, and checks the
// index against the log.
func (x *sharedFingerprintStore) commit(at time.Time, keys ...SpanKey) CommitResult {
	b := NewBatch()
	b.SetDedup(Dedup{Arrival: at, Window: sharedWindow})
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	for _, k := range keys {
		b.AddSpan(k, SpanCall{Key: row, Counters: Counters{Requests: 1}})
	}
	res, err := x.s.commit(context.Background(), b)
	require.NoError(x.t, err)
	requireIndexMatchesLog(x.t, x.s)
	return res
}

// TestRecordedAgainAfterItsWindow has two keys A and B of one log entry
// share a fingerprint. A is recorded again after its window while trim is
// still behind, so the old entry, holding A's stale copy, stays in the log
// and in the index (for B). A third call of A, one second after its second
// record, is a duplicate, before and after the file is opened again.
func TestRecordedAgainAfterItsWindow(t *testing.T) {
	spanA := SpanKey{Trace: [16]byte{0xAA}, Span: [8]byte{7: 1}}
	spanB := SpanKey{Trace: [16]byte{0xBB}, Span: [8]byte{7: 2}}
	x := newSharedFingerprintStore(t, 0, spanA, spanB)

	// More old keys than one commit's trim removes (minTrim), so that the
	// entry of A and B is still in the log when A comes back.
	var backlog []SpanKey
	for i := range 3 * minTrim {
		backlog = append(backlog, SpanKey{Trace: [16]byte{1, byte(i), byte(i >> 8)}, Span: [8]byte{7: 9}})
	}
	x.commit(sharedT0, backlog...)
	x.commit(sharedT0.Add(time.Second), spanA, spanB)
	r := x.commit(sharedT0.Add(400*time.Second), spanA)
	require.Equal(t, int64(1), r.Counted, "A's first record is older than the window: counted again")
	r = x.commit(sharedT0.Add(401*time.Second), spanA)
	require.Equal(t, int64(1), r.Duplicates, "A was recorded a second ago: %+v", r)

	x.reopen()
	r = x.commit(sharedT0.Add(402*time.Second), spanA)
	require.Equal(t, int64(1), r.Duplicates, "after the file is opened again: %+v", r)
}

// TestTrimSkipsAKeyRecordedAgain has keys A and B of one log entry share a
// fingerprint, and A recorded again after its window. Trim, allowed two
// records per commit here, reaches A's old record before B's: it must not
// take B's index entry for A's, which would forget B while its record
// stays, and miscount what expired and what is still recorded.
func TestTrimSkipsAKeyRecordedAgain(t *testing.T) {
	spanX := SpanKey{Trace: [16]byte{0x11}, Span: [8]byte{7: 1}}
	spanA := SpanKey{Trace: [16]byte{0xAA}, Span: [8]byte{7: 2}}
	spanB := SpanKey{Trace: [16]byte{0xBB}, Span: [8]byte{7: 3}}
	spanC := SpanKey{Trace: [16]byte{0xCC}, Span: [8]byte{7: 4}}
	x := newSharedFingerprintStore(t, 1, spanA, spanB)

	require.Equal(t, CommitResult{Counted: 3, Recorded: 3}, x.commit(sharedT0, spanX, spanA, spanB))
	// A again, its window over: its old record is stale. Trim looks at X
	// and A's old record, and stops before B's.
	require.Equal(t, CommitResult{Counted: 1, Recorded: 2, Expired: 1}, x.commit(sharedT0.Add(400*time.Second), spanA))
	// The next commit's trim reaches B.
	require.Equal(t, CommitResult{Counted: 1, Recorded: 2, Expired: 1}, x.commit(sharedT0.Add(401*time.Second), spanC))
	require.Equal(t, CommitResult{Duplicates: 2, Recorded: 2}, x.commit(sharedT0.Add(402*time.Second), spanA, spanC))
}

// TestReopenWithAKeyRecordedThreeTimes has keys A and B of one log entry
// share a fingerprint, and A recorded again twice, each time after its
// window, while trim lags so far behind that all three records of A are in
// the log when the file is opened again. Rebuilding the index must give A
// its latest record and keep B's: afterwards every answer is the
// contract's, and B's expiry is counted when trim reaches it.
func TestReopenWithAKeyRecordedThreeTimes(t *testing.T) {
	span := func(n byte) SpanKey { return SpanKey{Trace: [16]byte{0x42, n}, Span: [8]byte{7: n}} }
	spanA, spanB := span(0xA), span(0xB)
	x := newSharedFingerprintStore(t, 1, spanA, spanB)

	// Ten keys first, so that trim, two records per commit here, is still
	// on them when A comes back the second time.
	var fill []SpanKey
	for i := range 10 {
		fill = append(fill, span(byte(0x10+i)))
	}
	at := func(seconds int) time.Time { return sharedT0.Add(time.Duration(seconds) * time.Second) }
	require.Equal(t, CommitResult{Counted: 10, Recorded: 10}, x.commit(at(0), fill...))
	require.Equal(t, CommitResult{Counted: 2, Recorded: 12}, x.commit(at(1), spanA, spanB))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 10, Expired: 2}, x.commit(at(400), spanA))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 8, Expired: 2}, x.commit(at(800), spanA))

	x.reopen()
	require.Equal(t, int64(8), x.s.seen.live, "six fillers, B, and A's latest record")

	// Each commit adds a key and trims two records: the six fillers left
	// in three commits, then A's first record (skipped: recorded again
	// later) and B's.
	for i := range 3 {
		require.Equal(t, CommitResult{Counted: 1, Recorded: int64(7 - i), Expired: 2}, x.commit(at(801+i), span(byte(0x80+i))))
	}
	require.Equal(t, CommitResult{Counted: 1, Recorded: 5, Expired: 1},
		x.commit(at(804), span(0x83)), "B expired, A's first record skipped")
	// A's second record goes, skipped too; A is still within the window
	// of its third.
	require.Equal(t, CommitResult{Duplicates: 1, Recorded: 5}, x.commit(at(900), spanA))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 6}, x.commit(at(901), spanB), "B expired long ago")
}
