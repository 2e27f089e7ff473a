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

// TestRecordedAgainAfterItsWindow has two keys A and B of one log entry
// share a fingerprint. A is recorded again after its window while trim is
// still behind, so the old entry, holding A's stale copy, stays in the log
// and in the index (for B). A third call of A, one second after its second
// record, is a duplicate, before and after the file is opened again.
func TestRecordedAgainAfterItsWindow(t *testing.T) {
	spanA := SpanKey{Trace: [16]byte{0xAA}, Span: [8]byte{7: 1}}
	spanB := SpanKey{Trace: [16]byte{0xBB}, Span: [8]byte{7: 2}}
	recA, recB := appendSpanRecord(nil, spanA), appendSpanRecord(nil, spanB)
	seed := maphash.MakeSeed()
	opts := openOptions{lockTimeout: time.Second, noSync: true,
		fingerprint: func(key []byte) uint64 {
			if bytes.Equal(key, recA) || bytes.Equal(key, recB) {
				return 7
			}
			return maphash.Bytes(seed, key)
		}}
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := openFileStore(path, opts)
	require.NoError(t, err)

	const window = 300 * time.Second
	t0 := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	commit := func(at time.Time, keys ...SpanKey) CommitResult {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: at, Window: window})
		for _, k := range keys {
			b.AddSpan(k, SpanCall{Key: row, Counters: Counters{Requests: 1}})
		}
		res, err := s.commit(context.Background(), b)
		require.NoError(t, err)
		return res
	}
	// More old keys than one commit's trim removes (minTrim), so that the
	// entry of A and B is still in the log when A comes back.
	var backlog []SpanKey
	for i := range 3 * minTrim {
		backlog = append(backlog, SpanKey{Trace: [16]byte{1, byte(i), byte(i >> 8)}, Span: [8]byte{7: 9}})
	}
	commit(t0, backlog...)
	commit(t0.Add(time.Second), spanA, spanB)
	r := commit(t0.Add(400*time.Second), spanA)
	require.Equal(t, int64(1), r.Counted, "A's first record is older than the window: counted again")
	r = commit(t0.Add(401*time.Second), spanA)
	require.Equal(t, int64(1), r.Duplicates, "A was recorded a second ago: %+v", r)

	require.NoError(t, s.close())
	s, err = openFileStore(path, opts)
	require.NoError(t, err)
	defer s.close()
	r = commit(t0.Add(402*time.Second), spanA)
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
	recA, recB := appendSpanRecord(nil, spanA), appendSpanRecord(nil, spanB)
	seed := maphash.MakeSeed()
	opts := openOptions{lockTimeout: time.Second, noSync: true, trimFloor: 1,
		fingerprint: func(key []byte) uint64 {
			if bytes.Equal(key, recA) || bytes.Equal(key, recB) {
				return 7 << 24
			}
			return maphash.Bytes(seed, key)
		}}
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), opts)
	require.NoError(t, err)
	defer s.close()

	const window = 300 * time.Second
	t0 := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	commit := func(at time.Time, keys ...SpanKey) CommitResult {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: at, Window: window})
		for _, k := range keys {
			b.AddSpan(k, SpanCall{Key: row, Counters: Counters{Requests: 1}})
		}
		res, err := s.commit(context.Background(), b)
		require.NoError(t, err)
		requireIndexMatchesLog(t, s)
		return res
	}
	require.Equal(t, CommitResult{Counted: 3, Recorded: 3}, commit(t0, spanX, spanA, spanB))
	// A again, its window over: its old record is stale. Trim looks at X
	// and A's old record, and stops before B's.
	require.Equal(t, CommitResult{Counted: 1, Recorded: 2, Expired: 1}, commit(t0.Add(400*time.Second), spanA))
	// The next commit's trim reaches B.
	require.Equal(t, CommitResult{Counted: 1, Recorded: 2, Expired: 1}, commit(t0.Add(401*time.Second), spanC))
	require.Equal(t, CommitResult{Duplicates: 2, Recorded: 2}, commit(t0.Add(402*time.Second), spanA, spanC))
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
	recA, recB := appendSpanRecord(nil, spanA), appendSpanRecord(nil, spanB)
	seed := maphash.MakeSeed()
	path := filepath.Join(t.TempDir(), "ledger.db")
	opts := openOptions{lockTimeout: time.Second, noSync: true, trimFloor: 1,
		fingerprint: func(key []byte) uint64 {
			if bytes.Equal(key, recA) || bytes.Equal(key, recB) {
				return 7 << 24
			}
			return maphash.Bytes(seed, key)
		}}
	s, err := openFileStore(path, opts)
	require.NoError(t, err)
	defer func() { _ = s.close() }()

	const window = 300 * time.Second
	t0 := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	commit := func(at time.Time, keys ...SpanKey) CommitResult {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: at, Window: window})
		for _, k := range keys {
			b.AddSpan(k, SpanCall{Key: row, Counters: Counters{Requests: 1}})
		}
		res, err := s.commit(context.Background(), b)
		require.NoError(t, err)
		requireIndexMatchesLog(t, s)
		return res
	}
	// Ten keys first, so that trim, two records per commit here, is still
	// on them when A comes back the second time.
	var fill []SpanKey
	for i := range 10 {
		fill = append(fill, span(byte(0x10+i)))
	}
	require.Equal(t, CommitResult{Counted: 10, Recorded: 10}, commit(t0, fill...))
	require.Equal(t, CommitResult{Counted: 2, Recorded: 12}, commit(t0.Add(time.Second), spanA, spanB))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 10, Expired: 2}, commit(t0.Add(400*time.Second), spanA))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 8, Expired: 2}, commit(t0.Add(800*time.Second), spanA))

	require.NoError(t, s.close())
	s, err = openFileStore(path, opts)
	require.NoError(t, err)
	requireIndexMatchesLog(t, s)
	require.Equal(t, int64(8), s.seen.live, "six fillers, B, and A's latest record")

	// Each commit adds a key and trims two records: the six fillers left
	// in three commits, then A's first record (skipped: recorded again
	// later) and B's.
	for i := range 3 {
		require.Equal(t, CommitResult{Counted: 1, Recorded: int64(7 - i), Expired: 2},
			commit(t0.Add(time.Duration(801+i)*time.Second), span(byte(0x80+i))))
	}
	require.Equal(t, CommitResult{Counted: 1, Recorded: 5, Expired: 1},
		commit(t0.Add(804*time.Second), span(0x83)), "B expired, A's first record skipped")
	// A's second record goes, skipped too; A is still within the window
	// of its third.
	require.Equal(t, CommitResult{Duplicates: 1, Recorded: 5}, commit(t0.Add(900*time.Second), spanA))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 6}, commit(t0.Add(901*time.Second), spanB),
		"B expired long ago")
}
