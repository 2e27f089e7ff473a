package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// A transaction that fails after recording dedup keys leaves the index as
// it was, so that a retry of its spans counts them: the index must never
// know a key the file does not.
func TestFailedTransactionForgetsItsKeys(t *testing.T) {
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	first := s
	defer func() { _ = first.close() }()

	// A damaged row: any transaction adding to it fails in writeRows,
	// after its spans' keys were recorded.
	damaged := Key{Org: "acme", Connection: "damaged", Month: "2026-11", Model: "m"}
	good := Key{Org: "acme", Connection: "good", Month: "2026-11", Model: "m"}
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		key, err := encodeRowKey(damaged)
		require.NoError(t, err)
		return tx.Bucket(bucketRows).Put(key, []byte{9})
	}))

	arrival := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)
	batch := func(row Key, spans ...byte) *Batch {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: arrival, Window: time.Hour})
		for _, n := range spans {
			k := SpanKey{Trace: [16]byte{n}, Span: [8]byte{n}}
			b.AddSpan(k, SpanCall{Key: row, Counters: Counters{Requests: 1},
				Response: NewResponseKey(k.Trace, "r")})
		}
		return b
	}

	_, err = s.commit(context.Background(), batch(damaged, 1, 2))
	require.ErrorIs(t, err, errCorrupt)
	res, err := s.commit(context.Background(), batch(good, 1, 2))
	require.NoError(t, err)
	assert.Equal(t, CommitResult{Counted: 2, Recorded: 4}, res, "spans 1 and 2 count on their retry")

	// In a group, the failed commit is retried alone and fails again; the
	// other commits alone and keeps its keys.
	ok := &commitRequest{batch: batch(good, 3), done: make(chan struct{})}
	bad := &commitRequest{batch: batch(damaged, 4), done: make(chan struct{})}
	s.commitGroup([]*commitRequest{ok, bad})
	require.NoError(t, ok.err)
	require.ErrorIs(t, bad.err, errCorrupt)
	assert.Equal(t, CommitResult{Counted: 1, Recorded: 6}, ok.result)

	res, err = s.commit(context.Background(), batch(good, 3, 4))
	require.NoError(t, err)
	assert.Equal(t, CommitResult{Counted: 1, Duplicates: 1, Recorded: 8}, res, "span 3 was committed, span 4 was not")

	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		key, err := encodeRowKey(damaged)
		require.NoError(t, err)
		return tx.Bucket(bucketRows).Delete(key)
	}))
	rows, err := s.rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, uint64(4), rows[0].Requests, "spans 1, 2, 3 and 4 once each")

	// The file agrees with the index: reopened, it knows the same 8 keys.
	require.NoError(t, s.close())
	s, err = openFileStore(s.path, openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	defer s.close()
	assert.Equal(t, int64(8), s.seen.live)
}

// A commit whose context ends while it waits for its turn returns the
// context's error and applies nothing; one the commit loop has taken runs
// to its end, whatever its context does.
func TestCommitHonoursItsContextUntilTaken(t *testing.T) {
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	defer s.close()

	row := func(conn string) Key { return Key{Org: "acme", Connection: conn, Month: "2026-11", Model: "m"} }
	batch := func(conn string) *Batch {
		b := NewBatch()
		b.Add(row(conn), Counters{Requests: 1})
		return b
	}

	// Holding bbolt's writer lock stalls the commit loop inside its next
	// transaction, as a sync that does not return would.
	stall, err := s.db.Begin(true)
	require.NoError(t, err)
	defer func() { _ = stall.Rollback() }() // before close, which waits for the loop

	taken, cancelTaken := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.commit(taken, batch("taken"))
		done <- err
	}()
	// The idle loop takes the first commit at once; 100 ms is ample.
	time.Sleep(100 * time.Millisecond)
	cancelTaken()

	waiting, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.commit(waiting, batch("waiting"))
	require.ErrorIs(t, err, context.DeadlineExceeded)

	select {
	case err := <-done:
		t.Fatalf("the commit taken returned while the loop was stalled: %v", err)
	default:
	}
	require.NoError(t, stall.Rollback())
	require.NoError(t, <-done, "a commit taken completes although its context ended")

	rows, err := s.rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, row("taken"), rows[0].Key)
	assert.Equal(t, uint64(1), rows[0].Requests)
}
