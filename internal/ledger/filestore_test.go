package ledger_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/ledger/ledgertest"
)

func TestFileStoreContract(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) func(t *testing.T) ledger.Store {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func(t *testing.T) ledger.Store {
			s, err := ledger.Open(path)
			require.NoError(t, err)
			return s
		}
	})
}

// TestFileStoreContractCollidingFingerprints runs the contract with a dedup
// index whose fingerprints collide all the time: keys ending in an even byte
// share one fingerprint and keys ending in an odd byte another. Every answer
// must still be exact, as a match is confirmed against the key's bytes.
func TestFileStoreContractCollidingFingerprints(t *testing.T) {
	parity := func(key []byte) uint64 { return uint64(key[len(key)-1] & 1) }
	ledgertest.Run(t, func(t *testing.T) func(t *testing.T) ledger.Store {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func(t *testing.T) ledger.Store {
			s, err := ledger.Open(path, ledger.WithFingerprint(parity))
			require.NoError(t, err)
			return s
		}
	})
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "ledger.db")
	s, err := ledger.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.FileExists(t, path)
}

func TestOpenSharesHandle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	t.Chdir(dir)

	first, err := ledger.Open(path)
	require.NoError(t, err)
	// The same file by a relative name is the same ledger.
	second, err := ledger.Open("ledger.db")
	require.NoError(t, err)

	b := ledger.NewBatch()
	b.Add(ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}, ledger.Counters{Requests: 1})
	_, err = first.Commit(context.Background(), b)
	require.NoError(t, err)

	require.NoError(t, first.Close())
	rows, err := second.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err, "the file stays open while a handle is left")
	assert.Len(t, rows, 1)

	require.NoError(t, second.Close())
	// The last Close released the file lock: another opener gets it at once.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

// One file named through a symbolic link to it, or to its directory, is
// the same ledger, not a second handle that would find the file locked.
func TestOpenSharesHandleThroughLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "ledger.db")
	first, err := ledger.Open(real)
	require.NoError(t, err)
	defer first.Close()
	require.NoError(t, os.Symlink(real, filepath.Join(dir, "alias.db")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "linked")))

	b := ledger.NewBatch()
	b.Add(ledger.Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}, ledger.Counters{Requests: 1})
	_, err = first.Commit(context.Background(), b)
	require.NoError(t, err)
	for _, path := range []string{filepath.Join(dir, "alias.db"), filepath.Join(dir, "linked", "ledger.db")} {
		other, err := ledger.Open(path, ledger.WithLockTimeout(100*time.Millisecond))
		require.NoError(t, err, path)
		rows, err := other.Rows(context.Background(), []string{"2026-11"})
		require.NoError(t, err)
		assert.Len(t, rows, 1, path)
		require.NoError(t, other.Close())
	}
}

// The first start of a collector whose exporter and receiver name one new
// path under a linked directory: the exporter creates the file (and its
// directory), and the receiver, opening it once it exists, shares its
// handle rather than wait for the lock.
func TestOpenSharesANewFileUnderALink(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "data")))
	path := filepath.Join(dir, "data", "new", "ledger.db")
	writer, err := ledger.Open(path)
	require.NoError(t, err)
	defer writer.Close()
	reader, err := ledger.Open(path, ledger.WithExistingFile(), ledger.WithLockTimeout(100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, reader.Close())

	// A link to a file not there yet: opening creates the file it names.
	link := filepath.Join(dir, "link.db")
	require.NoError(t, os.Symlink(filepath.Join(dir, "real", "target.db"), link))
	first, err := ledger.Open(link)
	require.NoError(t, err)
	defer first.Close()
	second, err := ledger.Open(filepath.Join(dir, "real", "target.db"), ledger.WithLockTimeout(100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, second.Close())
}

// A hard link to an open ledger is the same file too.
func TestOpenSharesHandleThroughAHardLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	first, err := ledger.Open(path)
	require.NoError(t, err)
	defer first.Close()
	require.NoError(t, os.Link(path, filepath.Join(dir, "other.db")))
	second, err := ledger.Open(filepath.Join(dir, "other.db"), ledger.WithLockTimeout(100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, second.Close())
}

// An open ledger renamed is still the same file under its new name: the
// handle is shared rather than the open waiting for a lock this process
// holds.
func TestOpenSharesHandleOfARenamedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	first, err := ledger.Open(path)
	require.NoError(t, err)
	defer first.Close()
	moved := filepath.Join(dir, "moved.db")
	require.NoError(t, os.Rename(path, moved))
	second, err := ledger.Open(moved, ledger.WithLockTimeout(100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, second.Close())
}

// A reader opening a path where no ledger is gets ErrNoFile, and no file
// is created there; an existing ledger opens as usual.
func TestOpenExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	_, err := ledger.Open(path, ledger.WithExistingFile())
	require.ErrorIs(t, err, ledger.ErrNoFile)
	assert.EqualError(t, err, `ledger file "`+path+`": no ledger file at this path`)
	assert.NoFileExists(t, path)

	s, err := ledger.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s, err = ledger.Open(path, ledger.WithExistingFile())
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	// A bbolt handle outside the ledger's own bookkeeping holds the lock, as
	// another process would.
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()

	start := time.Now()
	_, err = ledger.Open(path, ledger.WithLockTimeout(200*time.Millisecond))
	require.ErrorContains(t, err, `ledger file "`+path+`" is locked by another process`)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestOpenRejectsOtherFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, db *bolt.DB)
		wantErr string
	}{
		{
			name: "unknown format version",
			prepare: func(t *testing.T, db *bolt.DB) {
				require.NoError(t, db.Update(func(tx *bolt.Tx) error {
					meta, err := tx.CreateBucket([]byte("meta"))
					require.NoError(t, err)
					return meta.Put([]byte("format"), binary.BigEndian.AppendUint32(nil, 7))
				}))
			},
			wantErr: "unknown format version 7; this build reads versions 1 to 4",
		},
		{
			name: "bbolt file of another program",
			prepare: func(t *testing.T, db *bolt.DB) {
				require.NoError(t, db.Update(func(tx *bolt.Tx) error {
					_, err := tx.CreateBucket([]byte("sessions"))
					return err
				}))
			},
			wantErr: "file holds data but no format version; expecting a usage ledger",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			db, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			tt.prepare(t, db)
			require.NoError(t, db.Close())

			_, err = ledger.Open(path)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}

	t.Run("not a bbolt file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		require.NoError(t, os.WriteFile(path, []byte("month,org,requests\n"), 0o600))
		_, err := ledger.Open(path)
		require.ErrorContains(t, err, `ledger file "`+path+`"`)
	})
}
