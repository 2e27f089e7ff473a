package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"

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
// The index maps a 64-bit fingerprint of each recorded key to the log
// entry holding it (fptable.go). A fingerprint names a key only probably,
// so a match is confirmed against the entry's bytes before a call is taken
// for a repeat: two keys that share a fingerprint are both kept, and the
// answer is exact. The index knows a log entry by a 32-bit number of its
// own, reused once the entry is gone, rather than by its 64-bit sequence
// number, so that a key takes 10.7 to 16 bytes of heap (BenchmarkFileSize);
// it is rebuilt from the log when the file opens.
//
// Only the commit loop touches the index. A transaction changes it as it
// goes and notes how to undo each change; if the transaction fails the
// changes are undone, so the index always matches the file.
type seenIndex struct {
	seed  maphash.Seed
	hash  func(key []byte) uint64 // replaces maphash when set
	table *fpTable
	// trimFloor is the least number of records a commit's trim may look
	// at: minTrim, unless a test lowers it.
	trimFloor int64
	// entries holds the sequence number and arrival of every log entry, by
	// the number the table knows it by; numbers maps a sequence number back.
	// free are the numbers of entries gone, for reuse; freed those that the
	// transaction let go, reusable once it is kept.
	entries []logEntry
	numbers map[uint64]uint32
	free    []uint32
	freed   []uint32
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

// logEntry is what the index knows of one log entry.
type logEntry struct {
	seq     uint64
	arrival int64
}

// maxLogEntries is how many log entries the index can tell apart: a log
// of over 240 GB, as an entry takes at least 57 bytes of the file (its
// 16-byte key, one 25-byte record and bbolt's 16 bytes per element). A
// commit that would open one more fails. A variable, so that a test can
// reach it.
var maxLogEntries = math.MaxUint32

// noEntry is the number of no log entry: numbers stay below maxLogEntries.
const noEntry = math.MaxUint32

type undoKind uint8

const (
	undoAdd undoKind = iota + 1
	undoRemove
	undoOpen
	undoForget
)

// undoStep reverses one change: undoAdd takes back an index entry that was
// added, undoRemove puts back one that was removed, undoOpen forgets a log
// entry that was opened, undoForget restores one that was forgotten.
type undoStep struct {
	kind  undoKind
	fp    uint64
	entry uint32
	log   logEntry
}

func newSeenIndex(hash func(key []byte) uint64) *seenIndex {
	return &seenIndex{
		seed:      maphash.MakeSeed(),
		hash:      hash,
		table:     newFPTable(0),
		trimFloor: minTrim,
		numbers:   make(map[uint64]uint32),
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
	x.freed = x.freed[:0]
	x.savedLive, x.savedNext = x.live, x.next
}

// keep makes the transaction's changes final.
func (x *seenIndex) keep() {
	x.undo = x.undo[:0]
	x.free = append(x.free, x.freed...)
	x.freed = x.freed[:0]
}

// rollback undoes the transaction's changes, newest first.
func (x *seenIndex) rollback() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		u := x.undo[i]
		switch u.kind {
		case undoAdd:
			x.table.remove(u.fp, u.entry)
		case undoRemove:
			x.table.add(u.fp, u.entry)
		case undoOpen:
			delete(x.numbers, u.log.seq)
			x.entries[u.entry] = logEntry{}
			x.free = append(x.free, u.entry)
		case undoForget:
			// Its number is in freed, which no open of this transaction
			// takes from.
			x.entries[u.entry] = u.log
			x.numbers[u.log.seq] = u.entry
		}
	}
	x.undo = x.undo[:0]
	x.freed = x.freed[:0]
	x.live, x.next = x.savedLive, x.savedNext
}

// candidates walks the log entries that may hold a key of fingerprint fp.
func (x *seenIndex) candidates(fp uint64) fpProbe {
	return x.table.probe(fp)
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

// record adds the key of fingerprint fp in log entry e, within a
// transaction.
func (x *seenIndex) record(fp uint64, e uint32) {
	x.table.add(fp, e)
	x.live++
	x.undo = append(x.undo, undoStep{kind: undoAdd, fp: fp, entry: e})
}

// drop removes the key of fingerprint fp in log entry e, within a
// transaction, and reports whether the index held it.
func (x *seenIndex) drop(fp uint64, e uint32) bool {
	if !x.table.remove(fp, e) {
		return false
	}
	x.live--
	x.undo = append(x.undo, undoStep{kind: undoRemove, fp: fp, entry: e})
	return true
}

// enter numbers a log entry: a number let go before, or a new one.
func (x *seenIndex) enter(l logEntry) (uint32, error) {
	var e uint32
	if n := len(x.free); n > 0 {
		e = x.free[n-1]
		x.free = x.free[:n-1]
		x.entries[e] = l
	} else {
		if len(x.entries) >= maxLogEntries {
			return 0, fmt.Errorf("the dedup log holds %d entries, the most its index can tell apart (a log of over 240 GB); no commit with dedup keys can be added", len(x.entries))
		}
		e = uint32(len(x.entries))
		x.entries = append(x.entries, l)
	}
	x.numbers[l.seq] = e
	return e, nil
}

// open makes a new log entry arriving at arrival, within a transaction, and
// returns its sequence number and the number the index knows it by.
func (x *seenIndex) open(arrival int64) (seq uint64, e uint32, err error) {
	l := logEntry{seq: x.next, arrival: arrival}
	if e, err = x.enter(l); err != nil {
		return 0, 0, err
	}
	x.next++
	x.undo = append(x.undo, undoStep{kind: undoOpen, entry: e, log: l})
	return l.seq, e, nil
}

// number returns the number of the log entry of sequence number seq.
func (x *seenIndex) number(seq uint64) (uint32, bool) {
	e, ok := x.numbers[seq]
	return e, ok
}

// forget removes the log entry seq, within a transaction. The index must
// hold none of its keys any more: its number is reused.
func (x *seenIndex) forget(seq uint64) {
	e, ok := x.numbers[seq]
	if !ok {
		return
	}
	x.undo = append(x.undo, undoStep{kind: undoForget, entry: e, log: x.entries[e]})
	delete(x.numbers, seq)
	x.entries[e] = logEntry{}
	x.freed = append(x.freed, e)
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
	x.entries = make([]logEntry, 0, entries)
	x.numbers = make(map[uint64]uint32, entries)
	x.free = nil
	set := newSeenSet(tx, x)
	return log.ForEach(func(k, v []byte) error {
		arrival, seq, err := decodeLogKey(k)
		if err != nil {
			return err
		}
		e, err := x.enter(logEntry{seq: seq, arrival: arrival})
		if err != nil {
			return err
		}
		x.next = max(x.next, seq+1)
		return eachLogRecord(v, func(key []byte) error {
			// The index entry of an earlier record of key is the latest
			// entry holding it, as for a commit's lookup: an older one may
			// still hold a stale record of key, and its index entry is
			// then another key's of the same fingerprint. This entry is
			// left out: the same key twice in one entry is damage, and
			// both are kept.
			fp := x.fingerprint(key)
			earlier, found, err := set.latest(fp, key, e)
			if err != nil {
				return err
			}
			if found {
				x.table.remove(fp, earlier)
				x.live--
			}
			x.table.add(fp, e)
			x.live++
			return nil
		})
	})
}

// logEntryHolds reports whether the log entry l holds key.
func logEntryHolds(log *bolt.Bucket, l logEntry, key []byte) (bool, error) {
	v := log.Get(encodeLogKey(l.arrival, l.seq))
	if v == nil {
		return false, fmt.Errorf("dedup log entry %d (arrival %d) is indexed but missing: %w", l.seq, l.arrival, errCorrupt)
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
