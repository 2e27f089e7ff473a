package ledger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/usageledger/usageledger/internal/ledger"
)

// TestOpenUpgradesFormat1 writes a format 1 file byte by byte, as the first
// release did, and opens it: its rows and connections read unchanged, the
// file says format 4 afterwards, and dedup works on it.
func TestOpenUpgradesFormat1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		require.NoError(t, meta.Put([]byte("format"), []byte{0, 0, 0, 1}))

		// Row 2026-11 / acme / c / m: 7 requests, 36,000,000 pUSD, the rest 0.
		rows, _ := tx.CreateBucket([]byte("rows"))
		key := append([]byte("2026-11"), 4, 'a', 'c', 'm', 'e', 1, 'c', 'm')
		record := make([]byte, 1+16*8)
		record[0] = 1
		binary.BigEndian.PutUint64(record[1:], 7)
		binary.BigEndian.PutUint64(record[1+11*8:], 36_000_000)
		require.NoError(t, rows.Put(key, record))

		// Connection acme/c: last seen 5, team "ops", cost center "cc-9".
		conns, _ := tx.CreateBucket([]byte("connections"))
		info := []byte{1, 0, 0, 0, 0, 0, 0, 0, 5, 3, 'o', 'p', 's', 'c', 'c', '-', '9'}
		return conns.Put(append([]byte{4, 'a', 'c', 'm', 'e'}, 'c'), info)
	}))
	require.NoError(t, db.Close())

	s, err := ledger.Open(path)
	require.NoError(t, err)
	k := ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	rows, err := s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	assert.Equal(t, []ledger.Row{{Key: k, Counters: ledger.Counters{Requests: 7, Cost: ledger.PicoUSD(36_000_000)}}}, rows)
	conns, err := s.Connections(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []ledger.Connection{{
		ConnectionID:   ledger.ConnectionID{Org: "acme", Connection: "c"},
		ConnectionInfo: ledger.CallInfo("ops", "cc-9", 5),
	}}, conns)

	// A keyed call counts once on the upgraded file.
	for range 2 {
		b := ledger.NewBatch()
		b.SetDedup(ledger.Dedup{Arrival: time.Unix(100, 0), Window: time.Hour})
		b.AddSpan(ledger.SpanKey{Trace: [16]byte{1}, Span: [8]byte{1}},
			ledger.SpanCall{Key: k, Counters: ledger.Counters{Requests: 1}, Info: ledger.CallInfo("", "", 9)})
		_, err := s.Commit(context.Background(), b)
		require.NoError(t, err)
	}
	rows, err = s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	assert.Equal(t, uint64(8), rows[0].Requests)
	conns, err = s.Connections(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ledger.ConnectionInfo{Team: "ops", TeamSeen: 5, CostCenter: "cc-9", CostCenterSeen: 5, LastSeen: 9},
		conns[0].ConnectionInfo, "a call without labels keeps those of the format 1 record")
	require.NoError(t, s.Close())

	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		assert.Equal(t, []byte{0, 0, 0, 4}, tx.Bucket([]byte("meta")).Get([]byte("format")))
		assert.NotNil(t, tx.Bucket([]byte("seen_log")))
		return nil
	}))
}

// TestOpenUpgradesFormat2 writes a format 2 file holding one recorded span
// key, byte by byte, and opens it: the span is still known, response keys
// are recorded beside it, and the file says format 4 afterwards.
func TestOpenUpgradesFormat2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	arrival := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)
	span := ledger.SpanKey{Trace: [16]byte{1}, Span: [8]byte{1}}
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		require.NoError(t, meta.Put([]byte("format"), []byte{0, 0, 0, 2}))
		require.NoError(t, meta.Put([]byte("seen_count"), binary.BigEndian.AppendUint64(nil, 1)))
		for _, name := range []string{"rows", "connections", "zones"} {
			_, err := tx.CreateBucket([]byte(name))
			require.NoError(t, err)
		}
		key := append(span.Trace[:], span.Span[:]...)
		at := binary.BigEndian.AppendUint64(nil, uint64(arrival.UnixNano()))
		seen, _ := tx.CreateBucket([]byte("seen"))
		require.NoError(t, seen.Put(key, at))
		byArrival, _ := tx.CreateBucket([]byte("seen_by_arrival"))
		return byArrival.Put(append(at, key...), nil)
	}))
	require.NoError(t, db.Close())

	core, logs := observer.New(zap.InfoLevel)
	s, err := ledger.Open(path, ledger.WithLogger(zap.New(core)))
	require.NoError(t, err)
	upgraded := logs.FilterMessage("Upgraded the usage ledger file to the current format").All()
	require.Len(t, upgraded, 1)
	assert.Equal(t, map[string]any{"path": path, "from_format": uint32(2), "to_format": uint32(4)},
		upgraded[0].ContextMap())
	opened := logs.FilterMessage("Opened the usage ledger").All()
	require.Len(t, opened, 1)
	assert.Equal(t, int64(1), opened[0].ContextMap()["dedup_keys"], "the span key of format 2")

	k := ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	b := ledger.NewBatch()
	b.SetDedup(ledger.Dedup{Arrival: arrival.Add(time.Minute), Window: time.Hour})
	b.AddSpan(span, ledger.SpanCall{Key: k, Counters: ledger.Counters{Requests: 1}})
	b.AddSpan(ledger.SpanKey{Trace: [16]byte{1}, Span: [8]byte{2}}, ledger.SpanCall{
		Key: k, Counters: ledger.Counters{Requests: 1}, Response: ledger.NewResponseKey([16]byte{1}, "r"),
	})
	// The span recorded by format 2 is a duplicate; the new span counts and
	// records its span key and its response key: 1 + 2 = 3 keys.
	res, err := s.Commit(context.Background(), b)
	require.NoError(t, err)
	assert.Equal(t, ledger.CommitResult{Counted: 1, Duplicates: 1, Recorded: 3}, res)
	require.NoError(t, s.Close())

	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		assert.Equal(t, []byte{0, 0, 0, 4}, tx.Bucket([]byte("meta")).Get([]byte("format")))
		for _, gone := range []string{"seen", "seen_by_arrival"} {
			assert.Nil(t, tx.Bucket([]byte(gone)), "bucket %s", gone)
		}
		assert.Nil(t, tx.Bucket([]byte("meta")).Get([]byte("seen_count")))
		return nil
	}))
	require.NoError(t, db.Close())

	// Opened again, the file needs no upgrade and holds the three keys.
	core, logs = observer.New(zap.InfoLevel)
	s, err = ledger.Open(path, ledger.WithLogger(zap.New(core)))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Zero(t, logs.FilterMessage("Upgraded the usage ledger file to the current format").Len())
	opened = logs.FilterMessage("Opened the usage ledger").All()
	require.Len(t, opened, 1)
	assert.Equal(t, int64(3), opened[0].ContextMap()["dedup_keys"])
}

// TestOpenUpgradesFormat3 writes a format 3 file, byte by byte, holding a
// span key and a response key that arrived together and a span key that
// arrived a minute later, and opens it: the keys move into seen_log, one
// entry per arrival in arrival order, and they are still known there until
// their window ends.
func TestOpenUpgradesFormat3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	first := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC)
	second := first.Add(time.Minute)
	spanA := ledger.SpanKey{Trace: [16]byte{1}, Span: [8]byte{1}}
	spanB := ledger.SpanKey{Trace: [16]byte{2}, Span: [8]byte{2}}
	response := ledger.NewResponseKey(spanA.Trace, "chatcmpl-1")
	keyA := append(spanA.Trace[:], spanA.Span[:]...)
	keyB := append(spanB.Trace[:], spanB.Span[:]...)
	keyR := append(response.Trace[:], response.Response[:]...)
	atFirst := binary.BigEndian.AppendUint64(nil, uint64(first.UnixNano()))
	atSecond := binary.BigEndian.AppendUint64(nil, uint64(second.UnixNano()))
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		require.NoError(t, meta.Put([]byte("format"), []byte{0, 0, 0, 3}))
		require.NoError(t, meta.Put([]byte("seen_count"), binary.BigEndian.AppendUint64(nil, 3)))
		for _, name := range []string{"rows", "connections", "zones"} {
			_, err := tx.CreateBucket([]byte(name))
			require.NoError(t, err)
		}
		seen, _ := tx.CreateBucket([]byte("seen"))
		byArrival, _ := tx.CreateBucket([]byte("seen_by_arrival"))
		for _, k := range []struct{ key, at []byte }{{keyA, atFirst}, {keyR, atFirst}, {keyB, atSecond}} {
			require.NoError(t, seen.Put(k.key, k.at))
			require.NoError(t, byArrival.Put(append(slices.Clone(k.at), k.key...), nil))
		}
		return nil
	}))
	require.NoError(t, db.Close())

	s, err := ledger.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		assert.Equal(t, []byte{0, 0, 0, 4}, tx.Bucket([]byte("meta")).Get([]byte("format")))
		var keys, values [][]byte
		require.NoError(t, tx.Bucket([]byte("seen_log")).ForEach(func(k, v []byte) error {
			keys, values = append(keys, slices.Clone(k)), append(values, slices.Clone(v))
			return nil
		}))
		// Entry 0 at the first arrival: span A (tag 1), then the response
		// (tag 2), in the order seen_by_arrival sorted them; entry 1 at the
		// second arrival: span B.
		assert.Equal(t, [][]byte{
			append(slices.Clone(atFirst), 0, 0, 0, 0, 0, 0, 0, 0),
			append(slices.Clone(atSecond), 0, 0, 0, 0, 0, 0, 0, 1),
		}, keys)
		assert.Equal(t, [][]byte{
			append(append([]byte{1}, keyA...), append([]byte{2}, keyR...)...),
			append([]byte{1}, keyB...),
		}, values)
		return nil
	}))
	require.NoError(t, db.Close())

	s, err = ledger.Open(path)
	require.NoError(t, err)
	defer s.Close()
	k := ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
	commit := func(arrival time.Time, span ledger.SpanKey, response string) ledger.CommitResult {
		b := ledger.NewBatch()
		b.SetDedup(ledger.Dedup{Arrival: arrival, Window: time.Hour})
		b.AddSpan(span, ledger.SpanCall{Key: k, Counters: ledger.Counters{Requests: 1},
			Response: ledger.NewResponseKey(span.Trace, response)})
		res, err := s.Commit(context.Background(), b)
		require.NoError(t, err)
		return res
	}
	// Within the hour: span B again, and another span of response 1.
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, Recorded: 3}, commit(first.Add(time.Hour), spanB, ""))
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, ResponseDuplicates: 1, Recorded: 3},
		commit(first.Add(time.Hour), ledger.SpanKey{Trace: spanA.Trace, Span: [8]byte{9}}, "chatcmpl-1"))
	// Past the first arrival's hour, span A and its response expire; span B,
	// a minute younger, is still known. The new span records 1 key.
	assert.Equal(t, ledger.CommitResult{Counted: 1, Expired: 2, Recorded: 2},
		commit(first.Add(time.Hour+time.Second), ledger.SpanKey{Trace: [16]byte{3}, Span: [8]byte{3}}, ""))
	assert.Equal(t, ledger.CommitResult{Duplicates: 1, Recorded: 2}, commit(first.Add(time.Hour+time.Second), spanB, ""))
}

func TestBackupWhileCommitting(t *testing.T) {
	dir := t.TempDir()
	s, err := ledger.Open(filepath.Join(dir, "ledger.db"))
	require.NoError(t, err)
	defer s.Close()

	commitOne := func(seq int) {
		b := ledger.NewBatch()
		b.Add(ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"},
			ledger.Counters{Requests: 1, InputTokens: uint64(seq)})
		_, err := s.Commit(context.Background(), b)
		assert.NoError(t, err)
	}
	for i := range 10 {
		commitOne(i)
	}

	// Commits go on while the copy is written; the copy is one consistent
	// moment, so it holds a whole number of commits.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			commitOne(100 + i)
		}
	}()
	var buf bytes.Buffer
	var size int64
	n, err := s.(ledger.Backuper).Backup(context.Background(), func(sz int64) io.Writer {
		size = sz
		return &buf
	})
	<-done
	require.NoError(t, err)
	assert.Equal(t, size, n)
	assert.Equal(t, int64(buf.Len()), n)

	copyPath := filepath.Join(dir, "backup.db")
	require.NoError(t, os.WriteFile(copyPath, buf.Bytes(), 0o600))
	c, err := ledger.Open(copyPath)
	require.NoError(t, err)
	defer c.Close()
	rows, err := c.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	// 10 commits before, then between 0 and 50 of seqs 100…149; seq s adds
	// s tokens, so the tokens are 0+…+9 = 45 plus the sum of the first
	// (requests - 10) of them.
	extra := rows[0].Requests - 10
	require.LessOrEqual(t, extra, uint64(50))
	assert.Equal(t, 45+extra*100+extra*(extra-1)/2, rows[0].InputTokens)
}

// An empty file, as a collector stopped while it created the file or a
// copy cut to nothing leaves, starts as a new ledger with a warning; a
// missing file starts as one quietly, and the warning does not come back
// once the file holds a ledger.
func TestEmptyFileStartsWithAWarning(t *testing.T) {
	const warning = "The usage ledger file was empty and starts as a new ledger; if it should hold " +
		"counts, stop the collector and restore the file from a backup"
	open := func(path string) *observer.ObservedLogs {
		t.Helper()
		core, logs := observer.New(zap.InfoLevel)
		s, err := ledger.Open(path, ledger.WithLogger(zap.New(core)))
		require.NoError(t, err)
		require.NoError(t, s.Close())
		return logs
	}
	empty := filepath.Join(t.TempDir(), "ledger.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	warned := open(empty).FilterMessage(warning).All()
	require.Len(t, warned, 1)
	assert.Equal(t, zap.WarnLevel, warned[0].Level)
	assert.Equal(t, map[string]any{"path": empty}, warned[0].ContextMap())
	assert.Zero(t, open(empty).FilterMessage(warning).Len(), "the file holds a ledger now")

	missing := filepath.Join(t.TempDir(), "ledger.db")
	assert.Zero(t, open(missing).FilterMessage(warning).Len())
}
