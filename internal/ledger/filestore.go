package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketMeta        = []byte("meta")
	bucketRows        = []byte("rows")
	bucketConnections = []byte("connections")
	keyFormat         = []byte("format")
)

// defaultLockTimeout is how long Open waits for another process to release
// the file before it gives up.
const defaultLockTimeout = time.Second

// fileStore is the embedded ledger: one bbolt file, one read-write
// transaction per commit, synced to disk before Commit returns.
//
// Reads go to the file rather than to a copy in memory. bbolt serves them
// from its memory map inside a read transaction that never waits for a
// writer, a month is one prefix scan, and the process keeps no second copy of
// the whole history that would grow month after month and could drift from
// what is on disk.
type fileStore struct {
	path string
	db   *bolt.DB
}

func openFileStore(path string, lockTimeout time.Duration) (*fileStore, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("ledger directory: %w", err)
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("ledger file %q is locked by another process: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger file %q: %w", path, err)
	}

	if err := db.Update(initFormat); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger file %q: %w", path, err)
	}
	return &fileStore{path: path, db: db}, nil
}

// initFormat writes the format version into a new file and checks it in an
// existing one.
func initFormat(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			empty = false
			return nil
		})
		if !empty {
			return errors.New("file holds data but no format version; expecting a usage ledger")
		}
		var err error
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return err
		}
		if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion)); err != nil {
			return err
		}
	}

	v := meta.Get(keyFormat)
	if len(v) != 4 {
		return fmt.Errorf("format version of %d bytes; expecting 4", len(v))
	}
	if got := binary.BigEndian.Uint32(v); got != formatVersion {
		return fmt.Errorf("unknown format version %d; this build reads version %d", got, formatVersion)
	}

	for _, name := range [][]byte{bucketRows, bucketConnections} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

func (s *fileStore) commit(ctx context.Context, b *Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bucketRows)
		for k, c := range b.Rows() {
			key, err := encodeRowKey(k)
			if err != nil {
				return err
			}
			if old := rows.Get(key); old != nil {
				prev, err := decodeCounters(old)
				if err != nil {
					return fmt.Errorf("row %+v: %w", k, err)
				}
				prev.Add(c)
				c = prev
			}
			if err := rows.Put(key, encodeCounters(c)); err != nil {
				return err
			}
		}

		conns := tx.Bucket(bucketConnections)
		for id, info := range b.Connections() {
			key := encodeConnectionKey(id)
			if old := conns.Get(key); old != nil {
				prev, err := decodeConnectionInfo(old)
				if err != nil {
					return fmt.Errorf("connection %+v: %w", id, err)
				}
				info = prev.Merge(info)
			}
			if err := conns.Put(key, encodeConnectionInfo(info)); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap("commit", err)
}

func (s *fileStore) rows(ctx context.Context, months []string) ([]Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Row
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRows).Cursor()
		for i, month := range months {
			if err := ValidateMonth(month); err != nil {
				return err
			}
			if slices.Contains(months[:i], month) {
				continue
			}
			prefix := []byte(month)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				key, err := decodeRowKey(k)
				if err != nil {
					return err
				}
				counters, err := decodeCounters(v)
				if err != nil {
					return fmt.Errorf("row %+v: %w", key, err)
				}
				out = append(out, Row{Key: key, Counters: counters})
			}
		}
		return nil
	})
	return out, s.wrap("read rows", err)
}

func (s *fileStore) connections(ctx context.Context) ([]Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConnections).ForEach(func(k, v []byte) error {
			id, err := decodeConnectionKey(k)
			if err != nil {
				return err
			}
			info, err := decodeConnectionInfo(v)
			if err != nil {
				return fmt.Errorf("connection %+v: %w", id, err)
			}
			out = append(out, Connection{ConnectionID: id, ConnectionInfo: info})
			return nil
		})
	})
	return out, s.wrap("read connections", err)
}

func (s *fileStore) close() error {
	return s.wrap("close", s.db.Close())
}

// wrap names the file and the operation in err, and reports a closed
// database as ErrClosed.
func (s *fileStore) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return fmt.Errorf("ledger file %q: %s: %w", s.path, op, ErrClosed)
	default:
		return fmt.Errorf("ledger file %q: %s: %w", s.path, op, err)
	}
}
