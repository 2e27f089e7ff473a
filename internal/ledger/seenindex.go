package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"

	bolt "go.etcd.io/bbolt"
)

// The dedup keys live in a log on disk and in an index in memory.
//
// The log (bucket seen_log) has one entry per commit that recorded keys:
// its key is the commit's arrival and a sequence number, its value the
// commit's keys one after another (see encoding.go). Appending one entry is
// one sequential write however many spans the commit carried, where a tree
// of single keys would take a random insertion, and a page written, per
// key.
//
// The index maps a 64-bit fingerprint of each recorded key to the sequence
// number of the entry holding it (fptable.go). A fingerprint names a key
// only probably, so a match is confirmed against the entry's bytes before a
// call is taken for a repeat: two keys that share a fingerprint are both
// kept, and the answer is exact. The index takes 21 to 32 bytes of heap per
// key (BenchmarkFileSize) and is rebuilt from the log when the file opens.
//
// Only the commit loop touches the index. A transaction changes it as it
// goes and notes how to undo each change; if the transaction fails the
// changes are undone, so the index always matches the file.
type seenIndex struct {
	seed  maphash.Seed
	hash  func(key []byte) uint64 // replaces maphash when set
	table *fpTable
	// arrivals holds the arrival, in unix nanoseconds, of every log entry.
	arrivals map[uint64]int64
	// live is the number of recorded keys; next the sequence number of the
	// next log entry.
	live int64
	next uint64

	undo      []undoStep
	savedLive int64
	savedNext uint64

	// records is the buffer a transaction builds each log entry in, fps
	// the fingerprints queued for warm.
	records []byte
	fps     []uint64
	// warmed keeps what warm read, so that the reads are not optimized
	// away.
	warmed uint64
}

type undoKind uint8

const (
	undoAdd undoKind = iota + 1
	undoRemove
	undoArrival
	undoForget
)

// undoStep reverses one change: undoAdd takes back an index entry that was
// added, undoRemove puts back one that was removed, undoArrival forgets a
// log entry's arrival that was added, undoForget restores one that was
// forgotten.
type undoStep struct {
	kind    undoKind
	fp, seq uint64
	arrival int64
}

func newSeenIndex(hash func(key []byte) uint64) *seenIndex {
	return &seenIndex{
		seed:     maphash.MakeSeed(),
		hash:     hash,
		table:    newFPTable(0),
		arrivals: make(map[uint64]int64),
	}
}

func (x *seenIndex) fingerprint(key []byte) uint64 {
	if x.hash != nil {
		return x.hash(key)
	}
	return maphash.Bytes(x.seed, key)
}

// begin starts a transaction's changes.
func (x *seenIndex) begin() {
	x.undo = x.undo[:0]
	x.savedLive, x.savedNext = x.live, x.next
}

// keep makes the transaction's changes final.
func (x *seenIndex) keep() {
	x.undo = x.undo[:0]
}

// rollback undoes the transaction's changes, newest first.
func (x *seenIndex) rollback() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		u := x.undo[i]
		switch u.kind {
		case undoAdd:
			x.remove(u.fp, u.seq)
		case undoRemove:
			x.add(u.fp, u.seq)
		case undoArrival:
			delete(x.arrivals, u.seq)
		case undoForget:
			x.arrivals[u.seq] = u.arrival
		}
	}
	x.undo = x.undo[:0]
	x.live, x.next = x.savedLive, x.savedNext
}

// candidates walks the sequence numbers of the log entries that may hold a
// key of fingerprint fp.
func (x *seenIndex) candidates(fp uint64) fpProbe {
	return x.table.probe(fp)
}

func (x *seenIndex) add(fp, seq uint64) {
	x.table.add(fp, seq)
}

// queue adds the fingerprint of key to those the next warm reads.
func (x *seenIndex) queue(key []byte) {
	x.fps = append(x.fps, x.fingerprint(key))
}

// warm reads the first slot of each queued fingerprint in the table, back
// to back, so that the lookups of those keys that follow, one by one among
// other work, find their slots in the cache (see [fpTable.touch]), and
// empties the queue.
func (x *seenIndex) warm() {
	x.warmed += x.table.touch(x.fps)
	x.fps = x.fps[:0]
}

// remove takes one entry (fp, seq) out of the index and reports whether
// there was one.
func (x *seenIndex) remove(fp, seq uint64) bool {
	return x.table.remove(fp, seq)
}

// record adds the key of fingerprint fp in log entry seq, within a
// transaction.
func (x *seenIndex) record(fp, seq uint64) {
	x.add(fp, seq)
	x.live++
	x.undo = append(x.undo, undoStep{kind: undoAdd, fp: fp, seq: seq})
}

// drop removes the key of fingerprint fp in log entry seq, within a
// transaction, and reports whether the index held it.
func (x *seenIndex) drop(fp, seq uint64) bool {
	if !x.remove(fp, seq) {
		return false
	}
	x.live--
	x.undo = append(x.undo, undoStep{kind: undoRemove, fp: fp, seq: seq})
	return true
}

// open makes a new log entry arriving at arrival, within a transaction, and
// returns its sequence number.
func (x *seenIndex) open(arrival int64) uint64 {
	seq := x.next
	x.next++
	x.arrivals[seq] = arrival
	x.undo = append(x.undo, undoStep{kind: undoArrival, seq: seq})
	return seq
}

// forget removes the log entry seq, within a transaction.
func (x *seenIndex) forget(seq uint64) {
	arrival, ok := x.arrivals[seq]
	if !ok {
		return
	}
	delete(x.arrivals, seq)
	x.undo = append(x.undo, undoStep{kind: undoForget, seq: seq, arrival: arrival})
}

// load rebuilds the index from the log. Entries come in arrival order, so
// where a key was recorded again after its window ended, the later record
// is the one indexed.
func (x *seenIndex) load(tx *bolt.Tx) error {
	log := tx.Bucket(bucketSeenLog)
	// Sizing the maps for every key first costs one walk over the records
	// and saves growing them a dozen times, which at millions of keys
	// would leave as much garbage as the index itself in the heap, and in
	// the process's memory until the runtime returns it.
	entries, keys := 0, 0
	if err := log.ForEach(func(_, v []byte) error {
		entries++
		return eachLogRecord(v, func([]byte) error {
			keys++
			return nil
		})
	}); err != nil {
		return err
	}
	x.table = newFPTable(keys)
	x.arrivals = make(map[uint64]int64, entries)
	return log.ForEach(func(k, v []byte) error {
		arrival, seq, err := decodeLogKey(k)
		if err != nil {
			return err
		}
		x.arrivals[seq] = arrival
		x.next = max(x.next, seq+1)
		return eachLogRecord(v, func(key []byte) error {
			fp := x.fingerprint(key)
			var earlier uint64
			found := false
			p := x.candidates(fp)
			for s, ok := p.next(); ok; s, ok = p.next() {
				if s == seq {
					continue // the same key twice in one entry is damage; keep both
				}
				var err error
				if found, err = logEntryHolds(log, x.arrivals[s], s, key); err != nil {
					return err
				}
				if found {
					earlier = s
					break
				}
			}
			if found {
				x.remove(fp, earlier)
				x.live--
			}
			x.add(fp, seq)
			x.live++
			return nil
		})
	})
}

// logEntryHolds reports whether the log entry (arrival, seq) holds key.
func logEntryHolds(log *bolt.Bucket, arrival int64, seq uint64, key []byte) (bool, error) {
	v := log.Get(encodeLogKey(arrival, seq))
	if v == nil {
		return false, fmt.Errorf("dedup log entry %d (arrival %d) is indexed but missing: %w", seq, arrival, errCorrupt)
	}
	return recordsHold(v, key)
}

// errStop ends a walk over log records early.
var errStop = errors.New("stop")

// recordsHold reports whether the encoded records v include key.
func recordsHold(v, key []byte) (bool, error) {
	found := false
	err := eachLogRecord(v, func(k []byte) error {
		if bytes.Equal(k, key) {
			found = true
			return errStop
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return found, err
}

// eachLogRecord calls fn with each key of a log entry's value, span and
// response keys told apart by their tag byte (see encoding.go). The slice
// passed to fn is part of v.
func eachLogRecord(v []byte, fn func(key []byte) error) error {
	for len(v) > 0 {
		n, err := logRecordSize(v[0])
		if err != nil {
			return err
		}
		if len(v) < n {
			return fmt.Errorf("dedup log record of %d bytes, expecting %d: %w", len(v), n, errCorrupt)
		}
		if err := fn(v[:n]); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

func logRecordSize(tag byte) (int, error) {
	switch tag {
	case tagSpanKey:
		return 1 + spanKeySize, nil
	case tagResponseKey:
		return 1 + responseKeySize, nil
	}
	return 0, fmt.Errorf("dedup log record tag %d, expecting %d or %d: %w", tag, tagSpanKey, tagResponseKey, errCorrupt)
}

func encodeLogKey(arrival int64, seq uint64) []byte {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint64(b, uint64(arrival))
	return binary.BigEndian.AppendUint64(b, seq)
}

func decodeLogKey(k []byte) (int64, uint64, error) {
	if len(k) != 16 {
		return 0, 0, fmt.Errorf("dedup log key of %d bytes, expecting 16: %w", len(k), errCorrupt)
	}
	return int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:]), nil
}
