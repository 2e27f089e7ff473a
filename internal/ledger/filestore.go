package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/textblocks"
)

var (
	bucketMeta        = []byte("meta")
	bucketRows        = []byte("rows")
	bucketConnections = []byte("connections")
	bucketSeenLog     = []byte("seen_log")
	bucketZones       = []byte("zones")
	keyFormat         = []byte("format")

	// The dedup buckets and count of formats 2 and 3, moved into seen_log
	// by the upgrade to format 4.
	bucketSeenV3        = []byte("seen")
	bucketSeenArrivalV3 = []byte("seen_by_arrival")
	keySeenCountV3      = []byte("seen_count")
)

// defaultLockTimeout is how long Open waits for another process to release
// the file before it gives up.
const defaultLockTimeout = time.Second

// fileStore is the embedded ledger: one bbolt file, synced to disk before a
// commit returns. Concurrent commits share one read-write transaction and one
// sync (see commitLoop).
//
// Reads go to the file rather than to a copy in memory. bbolt serves them
// from its memory map inside a read transaction that never waits for a
// writer, a month is one prefix scan, and the process keeps no second copy of
// the whole history that would grow month after month and could drift from
// what is on disk.
type fileStore struct {
	path string
	db   *bolt.DB
	// seen indexes the dedup log; only the commit loop uses it.
	seen *seenIndex
	// broken is the error of the commit that met a damaged page, after
	// which bbolt may hold its writer lock for good (see update): the
	// commits after it fail at once, and close leaves the file to the end
	// of the process. Only the commit loop sets it; close reads it once
	// the loop has stopped.
	broken error

	// requests carries commits to the loop; stop ends it and stopped says
	// it has ended.
	requests chan *commitRequest
	stop     chan struct{}
	stopped  chan struct{}
	closing  sync.Once
}

func openFileStore(path string, o openOptions) (*fileStore, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("ledger directory: %w", err)
	}

	if err := checkFile(path); err != nil {
		return nil, err
	}
	// bbolt starts an empty file as a new ledger. That is what a collector
	// stopped while it created the file leaves, so it is not refused; but
	// a copy or restore cut to nothing leaves it too, and then the counts
	// are elsewhere.
	st, statErr := os.Stat(path)
	wasEmpty := statErr == nil && st.Mode().IsRegular() && st.Size() == 0
	started := time.Now()
	db, err := openBolt(path, &bolt.Options{
		Timeout: o.lockTimeout,
		// The free page list is written with every commit, 8 bytes per
		// free page (a page or two while commits reuse what trims free),
		// so that opening the file reads that list. Without
		// it bbolt rebuilds the list by walking every page of the file,
		// which makes opening a ledger of years take seconds and leaves
		// the whole file resident in memory. A file written without the
		// list (earlier releases) is walked once, at its first open.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("ledger file %q is locked by another process: %w", path, err)
	}
	if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) ||
		errors.Is(err, bolterrors.ErrVersionMismatch) {
		// Neither of the file's two headers reads as a bbolt file's.
		return nil, fmt.Errorf("ledger file %q is no usage ledger, or its header pages are damaged; "+
			"point path at the ledger file, or restore it from a backup taken before the damage: %w",
			path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger file %q: %w", path, err)
	}

	logger := o.logger
	if logger == nil {
		logger = zap.NewNop()
	}
	var upgradedFrom uint32
	if err := update(db, func(tx *bolt.Tx) error {
		var err error
		upgradedFrom, err = initFormat(tx)
		return err
	}); err != nil {
		// Even after a damaged page, bbolt's rollback has let the writer
		// lock go: it reads only the free-page list, which checkFile read.
		_ = db.Close()
		return nil, fmt.Errorf("ledger file %q: %w", path, err)
	}
	if wasEmpty {
		logger.Warn("The usage ledger file was empty and starts as a new ledger; if it should hold "+
			"counts, stop the collector and restore the file from a backup", zap.String("path", path))
	}
	if upgradedFrom != 0 {
		logger.Info("Upgraded the usage ledger file to the current format",
			zap.String("path", path), zap.Uint32("from_format", upgradedFrom), zap.Uint32("to_format", formatVersion))
	}
	db.NoSync = o.noSync

	seen := newSeenIndex(o.fingerprint)
	if o.trimFloor > 0 {
		seen.trimFloor = o.trimFloor
	}
	if err := view(db, seen.load); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger file %q: dedup log: %w", path, err)
	}
	releaseMapped(db)
	logger.Info("Opened the usage ledger", zap.String("path", path),
		zap.Int64("dedup_keys", seen.live), zap.Duration("took", time.Since(started)))

	s := &fileStore{
		path:     path,
		db:       db,
		seen:     seen,
		requests: make(chan *commitRequest),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// checkFile refuses a file shorter than its last commit says it is, as
// one cut short by a full disk or a partial copy. bbolt would map it and
// fault reading the missing pages, some of them in a goroutine of its own,
// where the fault crashes the process instead of becoming an error. It
// also refuses a file whose free-page list does not read as one (see
// checkFreelist), which bbolt reads while it opens the file and would
// panic on, leaving the file open and locked, or trust, and write over
// pages in use. A file whose meta pages do not read, or that another
// process holds open, is left to bbolt, which refuses it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // missing, or bbolt reports why it cannot open it
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	// A collector that has the file open changes it while it is read here.
	if lockedByAnother(f) {
		return nil
	}
	// bbolt's two meta pages: page 0 at the start, page 1 one page later.
	var best *boltMeta
	if m, ok := readBoltMeta(f, 0); ok {
		best = &m
		if m1, ok := readBoltMeta(f, int64(m.pageSize)); ok && m1.txid > m.txid {
			best = &m1
		}
	} else {
		// Without page 0, bbolt looks for page 1 at every page size it
		// supports, from 1 KiB to 16 MiB, and opens the file from it.
		for shift := range 15 {
			at := int64(1024) << shift
			if at >= st.Size()-1024 {
				break
			}
			if m1, ok := readBoltMeta(f, at); ok && int64(m1.pageSize) == at {
				best = &m1
				break
			}
		}
	}
	if best == nil {
		return nil
	}
	if need := int64(best.pages) * int64(best.pageSize); st.Size() < need {
		return fmt.Errorf("ledger file %q is %d bytes, but its last commit wrote %d pages of %d bytes (%d bytes): "+
			"the file was cut short; restore it from a backup", path, st.Size(), best.pages, best.pageSize, need)
	}
	if best.freelist != noFreelist {
		if err := checkFreelist(f, best); err != nil {
			return fmt.Errorf("ledger file %q: %w (its free-page list, page %d: %v)", path, errDamaged, best.freelist, err)
		}
	}
	return nil
}

// checkFreelist reads the free-page list that meta m names and checks what
// bbolt will take from it on trust: that the page says it is that page and
// holds a free list, that the list fits the pages it spans, and that it
// names pages of the file in increasing order, as bbolt writes it.
func checkFreelist(f *os.File, m *boltMeta) error {
	const (
		header       = 16   // page id, flags, count, overflow
		freelistFlag = 0x10 // bbolt's flag of a free-list page
	)
	if m.freelist < 2 || m.freelist >= m.pages {
		return fmt.Errorf("the file has %d pages", m.pages)
	}
	var h [header]byte
	if _, err := f.ReadAt(h[:], int64(m.freelist)*int64(m.pageSize)); err != nil {
		return err
	}
	le := binary.LittleEndian
	id, flags, count, overflow := le.Uint64(h[0:]), le.Uint16(h[8:]), uint64(le.Uint16(h[10:])), uint64(le.Uint32(h[12:]))
	if id != m.freelist || flags != freelistFlag {
		return fmt.Errorf("it reads as page %d with flags %#x", id, flags)
	}
	if m.freelist+overflow >= m.pages {
		return fmt.Errorf("it spans %d more pages, past the end of the file", overflow)
	}
	body := make([]byte, (overflow+1)*uint64(m.pageSize)-header)
	if _, err := f.ReadAt(body, int64(m.freelist)*int64(m.pageSize)+header); err != nil {
		return err
	}
	if count == 0xFFFF { // the count is the list's first element
		count = le.Uint64(body)
		body = body[8:]
	}
	if count > uint64(len(body)/8) {
		return fmt.Errorf("%d free pages do not fit in %d pages", count, overflow+1)
	}
	previous := uint64(1)
	for i := range count {
		page := le.Uint64(body[8*i:])
		if page <= previous || page >= m.pages {
			return fmt.Errorf("entry %d of %d names page %d after page %d, in a file of %d pages", i, count, page, previous, m.pages)
		}
		previous = page
	}
	return nil
}

// boltMeta is what checkFile reads of a bbolt meta page.
type boltMeta struct {
	pageSize uint32
	freelist uint64 // page of the free page list, or noFreelist
	pages    uint64 // the high-water mark: pages in use
	txid     uint64
}

// noFreelist is the free-list page of a file whose commits do not write
// the list.
const noFreelist = ^uint64(0)

// readBoltMeta reads the meta page at offset and reports whether it is one:
// bbolt's magic number and a matching checksum (FNV-1a over the fields
// before it). The layout is bbolt's, in the machine's byte order, which is
// little-endian on every platform this builds for.
func readBoltMeta(f *os.File, offset int64) (boltMeta, bool) {
	const header = 16 // page id, flags, count, overflow
	var b [header + 64]byte
	if _, err := f.ReadAt(b[:], offset); err != nil {
		return boltMeta{}, false
	}
	m := b[header:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != 0xED0CDAED {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	meta := boltMeta{pageSize: le.Uint32(m[8:]), freelist: le.Uint64(m[32:]), pages: le.Uint64(m[40:]),
		txid: le.Uint64(m[48:])}
	if meta.pageSize < 512 || meta.pageSize > 1<<20 {
		return boltMeta{}, false
	}
	return meta, true
}

// initFormat writes the format version into a new file, upgrades a file of
// an earlier version, and checks it. It returns the version upgraded from,
// or 0 when the file needed no upgrade.
func initFormat(tx *bolt.Tx) (upgradedFrom uint32, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			empty = false
			return nil
		})
		if !empty {
			return 0, errors.New("file holds data but no format version; expecting a usage ledger")
		}
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return 0, err
		}
		if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion)); err != nil {
			return 0, err
		}
	}

	v := meta.Get(keyFormat)
	if len(v) != 4 {
		return 0, fmt.Errorf("format version of %d bytes; expecting 4", len(v))
	}
	got := binary.BigEndian.Uint32(v)
	switch {
	case got == 0 || got > formatVersion:
		return 0, fmt.Errorf("unknown format version %d; this build reads versions 1 to %d", got, formatVersion)
	case got < formatVersion:
		// Each format adds buckets or moves keys; see encoding.go.
		if err := upgradeSeen(tx); err != nil {
			return 0, fmt.Errorf("upgrade from format %d: %w", got, err)
		}
		if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion)); err != nil {
			return 0, err
		}
		upgradedFrom = got
	}

	for _, name := range [][]byte{bucketRows, bucketConnections, bucketSeenLog, bucketZones} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return 0, err
		}
	}
	return upgradedFrom, nil
}

// upgradeSeen moves the dedup keys of a format 2 or 3 file into seen_log:
// the keys of one arrival, in the order of seen_by_arrival, make one entry.
// A format 1 file has none.
func upgradeSeen(tx *bolt.Tx) error {
	log, err := tx.CreateBucketIfNotExists(bucketSeenLog)
	if err != nil {
		return err
	}
	if old := tx.Bucket(bucketSeenArrivalV3); old != nil {
		var seq uint64
		var records []byte
		arrival := int64(0)
		flush := func() error {
			if len(records) == 0 {
				return nil
			}
			err := log.Put(encodeLogKey(arrival, seq), records)
			seq++
			records = nil
			return err
		}
		err := old.ForEach(func(k, _ []byte) error {
			at, key, err := decodeArrivalKey(k)
			if err != nil {
				return err
			}
			if at != arrival {
				if err := flush(); err != nil {
					return err
				}
				arrival = at
			}
			tag := tagSpanKey
			if len(key) == responseKeySize {
				tag = tagResponseKey
			}
			records = append(append(records, tag), key...)
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketSeenV3, bucketSeenArrivalV3} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Delete(keySeenCountV3)
}

// releaseEvery is how many rows a read walks between releases of the
// file's pages it has mapped (see releaseMapped): a few megabytes of pages.
const releaseEvery = 8192

func (s *fileStore) rows(ctx context.Context, months []string) ([]Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var prefixes [][]byte
	for i, month := range months {
		if err := ValidateMonth(month); err != nil {
			return nil, s.wrap("read rows", err)
		}
		if !slices.Contains(months[:i], month) {
			prefixes = append(prefixes, []byte(month))
		}
	}
	var out []Row
	err := view(s.db, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRows).Cursor()
		// Counting the keys and their bytes first, which reads no values,
		// lets the rows go into one allocation of the right size instead
		// of a slice doubled and copied a dozen times, and the strings of
		// all their keys into one more.
		n, size := 0, 0
		for _, prefix := range prefixes {
			if err := scanPrefix(c, prefix, func(k, _ []byte) error {
				n++
				size += len(k)
				if n%releaseEvery == 0 {
					releaseMappedIn(tx)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		out = slices.Grow(out, n)
		keys := textblocks.New(size)
		for _, prefix := range prefixes {
			if err := scanPrefix(c, prefix, func(k, v []byte) error {
				key, err := decodeRowKeyIn(k, keys.Copy(k))
				if err != nil {
					return err
				}
				counters, err := decodeCounters(v)
				if err != nil {
					return fmt.Errorf("row %+v: %w", key, err)
				}
				out = append(out, Row{Key: key, Counters: counters})
				if len(out)%releaseEvery == 0 {
					releaseMappedIn(tx)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	// The rows own copies of their keys, so the pages can go.
	releaseMapped(s.db)
	return out, s.wrap("read rows", err)
}

func (s *fileStore) connections(ctx context.Context) ([]Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Connection
	err := view(s.db, func(tx *bolt.Tx) error {
		names := textblocks.New(namesBlockSize)
		var previous []byte
		return tx.Bucket(bucketConnections).ForEach(func(k, v []byte) error {
			if err := validKey(previous, k); err != nil {
				return err
			}
			previous = k
			conn, err := decodeConnectionIn(k, v, &names)
			if err != nil {
				return err
			}
			out = append(out, conn)
			return nil
		})
	})
	releaseMapped(s.db)
	return out, s.wrap("read connections", err)
}

// connectionsOf looks each id up in one read transaction. The ids are
// sorted by their encoded key first, so that the lookups walk the file's
// pages in order.
func (s *fileStore) connectionsOf(ctx context.Context, ids []ConnectionID) ([]Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := connectionKeys(ids)
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)

	out := make([]Connection, 0, len(keys))
	err := view(s.db, func(tx *bolt.Tx) error {
		// One cursor for all: Bucket.Get would allocate a cursor per key.
		c := tx.Bucket(bucketConnections).Cursor()
		names := textblocks.New(namesBlockSize)
		var found, v []byte
		for _, k := range keys {
			if found, v = seekAfter(c, found, v, k); !bytes.Equal(found, k) {
				continue
			}
			conn, err := decodeConnectionIn(k, v, &names)
			if err != nil {
				return err
			}
			out = append(out, conn)
		}
		return nil
	})
	releaseMapped(s.db)
	return out, s.wrap("read connections", err)
}

// scanPrefix calls fn with each key of c's bucket that starts with prefix,
// and its value, in order. bbolt keeps a bucket's keys sorted and trusts
// its pages, so a key out of order, or a scan that stops at a key before
// the prefix (a zeroed element reads as an empty key), means a damaged
// page: it is reported rather than taken for the end of the range, which
// would leave keys out without a word.
func scanPrefix(c *bolt.Cursor, prefix []byte, fn func(k, v []byte) error) error {
	var previous []byte
	k, v := c.Seek(prefix)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := validKey(previous, k); err != nil {
			return err
		}
		if err := validValue(v); err != nil {
			return err
		}
		previous = k
		if err := fn(k, v); err != nil {
			return err
		}
	}
	if k != nil && bytes.Compare(k, prefix) < 0 {
		return fmt.Errorf("a key after the range %q sorts before it: %w", prefix, errDamaged)
	}
	return nil
}

// validKey checks key k, read after key previous (nil for the first): it
// must sort after it, as the keys of a bucket do, and be no longer than
// bbolt lets a key be. A longer one is a length overwritten in a page,
// which would otherwise have a read copy gigabytes.
func validKey(previous, k []byte) error {
	if len(k) > bolt.MaxKeySize {
		return fmt.Errorf("a key of %d bytes: %w", len(k), errDamaged)
	}
	if previous != nil && bytes.Compare(k, previous) <= 0 {
		return fmt.Errorf("keys out of order: %w", errDamaged)
	}
	return nil
}

// maxRecordSize bounds the records of rows, connections and zones, which
// hold counters, two labels or a zone name: a larger value is a length
// overwritten in a page.
const maxRecordSize = 1 << 20

// validValue checks the size of a record of rows, connections or zones
// before it is decoded or copied.
func validValue(v []byte) error {
	if len(v) > maxRecordSize {
		return fmt.Errorf("a record of %d bytes: %w", len(v), errDamaged)
	}
	return nil
}

// namesBlockSize is the size of the blocks the names of connections are
// copied into: a few thousand connections each.
const namesBlockSize = 64 << 10

// connectionKeys returns the keys of ids, encoded as encodeConnectionKey
// does, all in one buffer.
func connectionKeys(ids []ConnectionID) [][]byte {
	size := 0
	for _, id := range ids {
		size += uvarintLen(uint64(len(id.Org))) + len(id.Org) + len(id.Connection)
	}
	buf := make([]byte, 0, size)
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		start := len(buf)
		buf = appendString(buf, id.Org)
		buf = append(buf, id.Connection...)
		keys[i] = buf[start:len(buf):len(buf)]
	}
	return keys
}

// nearKeys is how many keys seekAfter steps over before it seeks instead.
const nearKeys = 4

// seekAfter moves c to the first key at or after k and returns it with its
// value, as c.Seek(k) does. at and v are the key and value c is at: nil
// before the first move, and otherwise what seekAfter returned for a key
// before k. When the key sought is a few keys ahead, as when most keys of a
// range are sought, stepping to it is cheaper than a seek, which descends
// the tree from its root.
func seekAfter(c *bolt.Cursor, at, v, k []byte) ([]byte, []byte) {
	if at == nil {
		return c.Seek(k)
	}
	for range nearKeys {
		if bytes.Compare(at, k) >= 0 {
			return at, v
		}
		if at, v = c.Next(); at == nil {
			return nil, nil
		}
	}
	if bytes.Compare(at, k) >= 0 {
		return at, v
	}
	return c.Seek(k)
}

// decodeConnectionIn decodes the connection of key k and record v, with its
// names and labels copied into names.
func decodeConnectionIn(k, v []byte, names *textblocks.Blocks) (Connection, error) {
	if err := validValue(v); err != nil {
		return Connection{}, err
	}
	text := names.Copy(k)
	id, err := decodeConnectionKeyIn(k, text)
	if err != nil {
		return Connection{}, err
	}
	info, err := decodeConnectionInfoIn(v, func(labels []byte) string { return names.Copy(labels) })
	if err != nil {
		return Connection{}, fmt.Errorf("connection %+v: %w", id, err)
	}
	return Connection{ConnectionID: id, ConnectionInfo: info}, nil
}

func (s *fileStore) zones(ctx context.Context, months []string) (map[OrgMonth]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[OrgMonth]string)
	err := view(s.db, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketZones).Cursor()
		for _, month := range months {
			if err := ValidateMonth(month); err != nil {
				return err
			}
			prefix := []byte(month)
			if err := scanPrefix(c, prefix, func(k, v []byte) error {
				out[OrgMonth{Org: string(k[len(prefix):]), Month: month}] = string(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, s.wrap("read zones", err)
}

func (s *fileStore) backup(ctx context.Context, start func(size int64) io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := view(s.db, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(start(tx.Size()))
		return err
	})
	return n, s.wrap("backup", err)
}

// close stops the commit loop, after the commits handed to it, and closes
// the file.
func (s *fileStore) close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.stopped
	if s.broken != nil {
		return s.wrap("close", fmt.Errorf("left open until the process ends, after a commit failed: %w", s.broken))
	}
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
