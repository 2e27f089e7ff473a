package ledger

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// latestMeta reads the meta page of the last commit of the file at path.
func latestMeta(t *testing.T, path string) boltMeta {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m0, ok := readBoltMeta(f, 0)
	require.True(t, ok, "meta page 0")
	m1, ok := readBoltMeta(f, int64(m0.pageSize))
	require.True(t, ok, "meta page 1")
	if m1.txid > m0.txid {
		return m1
	}
	return m0
}

func commitOneRow(t *testing.T, s *fileStore, month string) {
	t.Helper()
	b := NewBatch()
	b.Add(Key{Org: "acme", Connection: "support-bot/openai", Month: month, Model: "gpt-4o"},
		Counters{Requests: 2, InputTokens: 300})
	_, err := s.commit(context.Background(), b)
	require.NoError(t, err)
}

// TestFreelistWrittenWithCommits checks that a commit writes bbolt's list
// of free pages, so that opening the file reads the list instead of walking
// every page, and that a file whose commits did not write it, as earlier
// releases left them, opens with its counters and gets the list from its
// next commit on.
func TestFreelistWrittenWithCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	open := func() *fileStore {
		s, err := openFileStore(path, openOptions{lockTimeout: time.Second})
		require.NoError(t, err)
		return s
	}

	s := open()
	commitOneRow(t, s, "2026-11")
	require.NoError(t, s.close())
	assert.NotEqual(t, noFreelist, latestMeta(t, path).freelist, "a commit of this build writes the free list")

	// One commit the way earlier releases made them.
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("unused"))
		return err
	}))
	require.NoError(t, db.Close())
	require.Equal(t, noFreelist, latestMeta(t, path).freelist, "the earlier release's commit wrote no free list")

	s = open()
	commitOneRow(t, s, "2026-11")
	rows, err := s.rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.NoError(t, s.close())
	require.Len(t, rows, 1)
	assert.Equal(t, Counters{Requests: 4, InputTokens: 600}, rows[0].Counters, "both commits counted")
	assert.NotEqual(t, noFreelist, latestMeta(t, path).freelist, "the first commit after the upgrade writes the list")
}
