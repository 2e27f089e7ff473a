package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// requireIndexMatchesLog requires the dedup index of s to describe its log:
// each log entry has a number of its own that names it back, every other
// number is free, once, and every slot of the table refers to a numbered
// entry, one slot per live key.
func requireIndexMatchesLog(t *testing.T, s *fileStore) {
	t.Helper()
	x := s.seen
	inLog := 0
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSeenLog).ForEach(func(k, _ []byte) error {
			arrival, seq, err := decodeLogKey(k)
			require.NoError(t, err)
			e, ok := x.numbers[seq]
			require.True(t, ok, "log entry %d has no number", seq)
			require.Equal(t, logEntry{seq: seq, arrival: arrival}, x.entries[e], "number %d", e)
			inLog++
			return nil
		})
	}))
	require.Len(t, x.numbers, inLog, "numbers of entries not in the log")

	used := make([]bool, len(x.entries))
	for _, e := range x.numbers {
		require.False(t, used[e], "number %d given twice", e)
		used[e] = true
	}
	for _, e := range x.free {
		require.Less(t, int(e), len(x.entries))
		require.False(t, used[e], "number %d both free and in use, or free twice", e)
		used[e] = true
	}
	require.NotContains(t, used, false, "a number neither in use nor free")
	require.Empty(t, x.freed, "numbers let go by a transaction that ended")

	slots := 0
	for i := range x.table.shards {
		for _, slot := range x.table.shards[i].slots {
			if slot.tag == 0 {
				continue
			}
			slots++
			require.Less(t, int(slot.entry), len(x.entries))
			require.NotContains(t, x.free, slot.entry, "slot of shard %d refers to free number %d", i, slot.entry)
		}
	}
	require.Equal(t, int(x.live), slots, "one slot per live key")
}

// A transaction that expires old log entries and opens a new one, then
// fails, leaves the index as it was: the old entries keep their numbers,
// the new one gives its number back. Numbers are reused only once the
// entries holding them are gone, and the keys of an entry under a reused
// number are found as before.
func TestEntryNumbersSurviveAFailedTransaction(t *testing.T) {
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	defer func() { _ = s.close() }()

	t0 := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	batch := func(at time.Time, spans ...byte) *Batch {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: at, Window: time.Hour})
		for _, n := range spans {
			b.AddSpan(SpanKey{Trace: [16]byte{n}, Span: [8]byte{7: n}}, SpanCall{Key: row, Counters: Counters{Requests: 1}})
		}
		return b
	}
	commit := func(at time.Time, spans ...byte) CommitResult {
		res, err := s.commit(context.Background(), batch(at, spans...))
		require.NoError(t, err)
		requireIndexMatchesLog(t, s)
		return res
	}

	// Entries 0 and 1, numbered 0 and 1.
	require.Equal(t, CommitResult{Counted: 2, Recorded: 2}, commit(t0, 1, 2))
	require.Equal(t, CommitResult{Counted: 1, Recorded: 3}, commit(t0.Add(time.Minute), 3))
	before := slices.Clone(s.seen.entries)

	// Two hours on, a commit expires both entries and opens a third, but
	// its transaction fails after all of that.
	errFailed := errors.New("the transaction failed")
	req := &commitRequest{batch: batch(t0.Add(2*time.Hour), 4, 5), done: make(chan struct{})}
	s.seen.begin()
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := applyGroup(tx, s.seen, []*commitRequest{req}); err != nil {
			return err
		}
		require.Equal(t, int64(3), req.result.Expired, "the failing transaction did expire the old keys")
		return errFailed
	})
	require.ErrorIs(t, err, errFailed)
	s.seen.rollback()
	requireIndexMatchesLog(t, s)
	assert.Equal(t, before, s.seen.entries[:len(before)], "the old entries keep their numbers")

	// The old keys are still known within their window.
	assert.Equal(t, CommitResult{Duplicates: 3, Recorded: 3}, commit(t0.Add(30*time.Minute), 1, 2, 3))

	// Now the commit lands: it expires the old keys and its entry takes a
	// new number, as the old ones are let go only once it is kept.
	assert.Equal(t, CommitResult{Counted: 2, Recorded: 2, Expired: 3}, commit(t0.Add(2*time.Hour), 4, 5))
	assert.Len(t, s.seen.free, 2, "the numbers of the two expired entries")

	// The next entries reuse them, and their keys are found.
	assert.Equal(t, CommitResult{Counted: 1, Recorded: 3}, commit(t0.Add(2*time.Hour+time.Second), 1))
	assert.Equal(t, CommitResult{Counted: 1, Recorded: 4}, commit(t0.Add(2*time.Hour+2*time.Second), 2))
	assert.Empty(t, s.seen.free)
	assert.Len(t, s.seen.entries, 3, "no number added while two were free")
	assert.Equal(t, CommitResult{Duplicates: 4, Recorded: 4}, commit(t0.Add(2*time.Hour+3*time.Second), 1, 2, 4, 5))
	assert.Equal(t, CommitResult{Counted: 1, Recorded: 5}, commit(t0.Add(2*time.Hour+4*time.Second), 3))
}

// When the log holds as many entries as the index can number, a commit
// that would open another fails whole, with an error that says so, and
// leaves the ledger and its index as they were; a commit without dedup
// still counts.
func TestTooManyLogEntriesFailsTheCommit(t *testing.T) {
	defer func(n int) { maxLogEntries = n }(maxLogEntries)
	maxLogEntries = 2
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	defer func() { _ = s.close() }()

	t0 := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)
	row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	commit := func(at time.Time, window time.Duration, span byte) (CommitResult, error) {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: at, Window: window})
		b.AddSpan(SpanKey{Trace: [16]byte{span}, Span: [8]byte{7: span}}, SpanCall{Key: row, Counters: Counters{Requests: 1}})
		return s.commit(context.Background(), b)
	}
	requests := func() uint64 {
		rows, err := s.rows(context.Background(), []string{"2026-11"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		return rows[0].Requests
	}

	for i := range 2 {
		res, err := commit(t0.Add(time.Duration(i)*time.Minute), time.Hour, byte(1+i))
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Counted)
	}
	_, err = commit(t0.Add(2*time.Minute), time.Hour, 3)
	require.ErrorContains(t, err, "the dedup log holds 2 entries, the most its index can tell apart (a log of over 240 GB); no commit with dedup keys can be added")
	requireIndexMatchesLog(t, s)
	assert.Equal(t, uint64(2), requests(), "the failed commit counted nothing")
	assert.Equal(t, int64(2), s.seen.live)

	res, err := commit(t0.Add(3*time.Minute), 0, 3)
	require.NoError(t, err)
	assert.Equal(t, CommitResult{Counted: 1, Recorded: 2}, res, "dedup off: counted, nothing recorded")
	assert.Equal(t, uint64(3), requests())
}
