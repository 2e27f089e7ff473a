package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// minTrim is the least number of old keys a commit may remove, so that expiry
// catches up after a pause even when commits are small.
const minTrim = 1024

// seenSet is the record of span and response keys inside one read-write
// transaction: the index in memory answers "seen?", the log on disk gets
// one entry per commit (see seenindex.go). Both kinds of key share the
// window and the bound.
type seenSet struct {
	index *seenIndex
	log   *bolt.Bucket
	added int64 // keys recorded by this transaction

	// The log entry of the commit being applied: its sequence number, the
	// number the index knows it by, its arrival and records so far.
	seq     uint64
	entry   uint32
	arrival int64
	records []byte
	open    bool
}

func newSeenSet(tx *bolt.Tx, index *seenIndex) *seenSet {
	return &seenSet{index: index, log: tx.Bucket(bucketSeenLog), records: index.records[:0]}
}

// begin starts the log entry of one commit arriving at d.Arrival.
func (s *seenSet) begin(d Dedup) error {
	seq, e, err := s.index.open(d.Arrival.UnixNano())
	if err != nil {
		return err
	}
	s.seq, s.entry = seq, e
	s.arrival = d.Arrival.UnixNano()
	s.records = s.records[:0]
	s.open = true
	return nil
}

// end writes the log entry of the commit begun last, if it recorded a key.
func (s *seenSet) end() error {
	if !s.open {
		return nil
	}
	s.open = false
	s.index.records = s.records[:0] // kept for the next transaction
	if len(s.records) == 0 {
		s.index.forget(s.seq)
		return nil
	}
	// bbolt keeps the value until the transaction ends; records is reused.
	return s.log.Put(encodeLogKey(s.arrival, s.seq), append([]byte(nil), s.records...))
}

// holds reports whether log entry e holds the record key.
func (s *seenSet) holds(e uint32, key []byte) (bool, error) {
	if s.open && e == s.entry {
		return recordsHold(s.records, key)
	}
	return logEntryHolds(s.log, s.index.entries[e], key)
}

// find returns the latest log entry that holds the record key, of
// fingerprint fp. A key can be in more than one entry: one recorded again
// after its window replaces its old record in the index, but the old entry
// stays in the log until trim reaches it, and where another key of that
// entry shares the fingerprint, the entry is still a candidate. The latest
// entry holds the record that counts.
func (s *seenSet) find(fp uint64, key []byte) (e uint32, found bool, err error) {
	return s.latest(fp, key, noEntry)
}

// latest is find, with the log entry except left out.
func (s *seenSet) latest(fp uint64, key []byte, except uint32) (e uint32, found bool, err error) {
	p := s.index.candidates(fp)
	for cand, ok := p.next(); ok; cand, ok = p.next() {
		if cand == except || found && s.index.entries[cand].seq <= s.index.entries[e].seq {
			continue
		}
		holds, err := s.holds(cand, key)
		if err != nil {
			return 0, false, err
		}
		if holds {
			e, found = cand, true
		}
	}
	return e, found, nil
}

// recordedLater reports whether the record key, of fingerprint fp, held
// by log entry e, was recorded again in a later entry. Only an entry
// holding a key of the same fingerprint is read, which is seldom any.
func (s *seenSet) recordedLater(fp uint64, key []byte, e uint32) (bool, error) {
	other, found, err := s.latest(fp, key, e)
	return found && s.index.entries[other].seq > s.index.entries[e].seq, err
}

// warm looks the keys of b up ahead of record (see [fpTable.touch]).
func (s *seenSet) warm(b *Batch) {
	var rec [1 + responseKeySize]byte
	for i := range b.spans {
		c := &b.spans[i]
		if c.key.IsZero() {
			continue
		}
		s.index.queue(appendSpanRecord(rec[:0], c.key))
		if !c.call.Response.IsZero() {
			s.index.queue(appendResponseRecord(rec[:0], c.call.Response))
		}
	}
	s.index.warm()
}

// check looks the record key up. It reports whether it was recorded within
// the window before d.Arrival and, if it was recorded earlier than that,
// the entry holding the stale record.
func (s *seenSet) check(key []byte, d Dedup) (fp uint64, recent bool, stale uint32, isStale bool, err error) {
	fp = s.index.fingerprint(key)
	e, found, err := s.find(fp, key)
	if err != nil || !found {
		return fp, false, 0, false, err
	}
	if s.index.entries[e].arrival >= d.Arrival.UnixNano()-d.Window.Nanoseconds() {
		return fp, true, 0, false, nil
	}
	return fp, false, e, true, nil
}

// add records key in the commit's log entry. A record of it older than the
// window is replaced: the call counted again and its window starts anew.
func (s *seenSet) add(key []byte, fp uint64, stale uint32, isStale bool) {
	if isStale {
		s.index.drop(fp, stale)
	}
	s.records = append(s.records, key...)
	s.index.record(fp, s.entry)
	s.added++
}

// record decides whether the call of span key sk and response key rk (zero
// when the span reports no response) counts: not when either key was
// recorded within the window before d.Arrival. A call that counts has both
// keys recorded at d.Arrival; a duplicate records nothing, so the keys of
// the first call keep their arrival and the first committed span keeps its
// identity.
func (s *seenSet) record(sk SpanKey, rk ResponseKey, d Dedup) (Repeat, error) {
	var spanRec [1 + spanKeySize]byte
	span := appendSpanRecord(spanRec[:0], sk)
	spanFP, dup, spanStale, spanIsStale, err := s.check(span, d)
	if err != nil {
		return NotRepeated, fmt.Errorf("span %s: %w", sk, err)
	}
	if dup {
		return RepeatedSpan, nil
	}
	var respRec [1 + responseKeySize]byte
	var response []byte
	var respFP uint64
	var respStale uint32
	var respIsStale bool
	if !rk.IsZero() {
		response = appendResponseRecord(respRec[:0], rk)
		respFP, dup, respStale, respIsStale, err = s.check(response, d)
		if err != nil {
			return NotRepeated, fmt.Errorf("response %s: %w", rk, err)
		}
		if dup {
			return RepeatedResponse, nil
		}
	}
	s.add(span, spanFP, spanStale, spanIsStale)
	if response != nil {
		s.add(response, respFP, respStale, respIsStale)
	}
	return NotRepeated, nil
}

// trim removes the keys older than the window, and then the oldest keys
// beyond d.MaxEntries, oldest first. It looks at most max(minTrim, 2 × the
// keys this transaction added) records, so one commit stays short however
// far behind expiry is; later commits catch up. A record whose key was
// recorded again later is dropped without being counted as removed.
func (s *seenSet) trim(d Dedup) (expired, evicted int64, err error) {
	if d.Window <= 0 {
		return 0, 0, nil
	}
	budget := max(s.index.trimFloor, 2*s.added)
	cutoff := d.Arrival.UnixNano() - d.Window.Nanoseconds()
	overLimit := func() bool { return d.MaxEntries > 0 && s.index.live > int64(d.MaxEntries) }

	c := s.log.Cursor()
	for k, v := c.First(); k != nil && budget > 0; k, v = c.First() {
		arrival, seq, err := decodeLogKey(k)
		if err != nil {
			return expired, evicted, err
		}
		if arrival >= cutoff && !overLimit() {
			break
		}
		e, ok := s.index.number(seq)
		if !ok {
			return expired, evicted, fmt.Errorf("dedup log entry %d (arrival %d) is not indexed: %w", seq, arrival, errCorrupt)
		}
		rest := v
		// The records trim may drop from this entry: at most budget, each
		// at most a response record long.
		_ = eachLogRecord(rest[:min(len(rest), int(budget)*(1+responseKeySize))], func(key []byte) error {
			s.index.queue(key)
			return nil
		})
		s.index.warm()
		for len(rest) > 0 && budget > 0 && (arrival < cutoff || overLimit()) {
			n, err := logRecordSize(rest[0])
			if err != nil {
				return expired, evicted, err
			}
			if len(rest) < n {
				return expired, evicted, fmt.Errorf("dedup log record of %d bytes, expecting %d: %w", len(rest), n, errCorrupt)
			}
			// A record whose key was recorded again later has no index entry
			// of its own, and must not take the entry of another key of
			// this log entry that shares its fingerprint: that key would be
			// forgotten while its record stays.
			fp := s.index.fingerprint(rest[:n])
			later, err := s.recordedLater(fp, rest[:n], e)
			if err != nil {
				return expired, evicted, err
			}
			if !later && s.index.drop(fp, e) {
				if arrival < cutoff {
					expired++
				} else {
					evicted++
				}
			}
			rest = rest[n:]
			budget--
		}
		if len(rest) > 0 {
			// Part of the entry stays; rest belongs to bbolt's page, so the
			// new value is a copy.
			if err := s.log.Put(k, append([]byte(nil), rest...)); err != nil {
				return expired, evicted, err
			}
			break
		}
		if err := c.Delete(); err != nil {
			return expired, evicted, err
		}
		s.index.forget(seq)
	}
	return expired, evicted, nil
}

func appendSpanRecord(b []byte, k SpanKey) []byte {
	b = append(b, tagSpanKey)
	b = append(b, k.Trace[:]...)
	return append(b, k.Span[:]...)
}

func appendResponseRecord(b []byte, k ResponseKey) []byte {
	b = append(b, tagResponseKey)
	b = append(b, k.Trace[:]...)
	return append(b, k.Response[:]...)
}
