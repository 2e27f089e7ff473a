package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// minTrim is the least number of old keys a commit may remove, so that expiry
// catches up after a pause even when commits are small.
const minTrim = 1024

// seenSet is the record of span keys inside one read-write transaction: a key
// bucket to answer "seen?" and an arrival index to expire the oldest first.
type seenSet struct {
	keys    *bolt.Bucket
	arrival *bolt.Bucket
	meta    *bolt.Bucket
	count   int64 // keys recorded, kept in meta
	added   int64 // keys recorded by this transaction
	loaded  bool
}

func newSeenSet(tx *bolt.Tx) *seenSet {
	return &seenSet{
		keys:    tx.Bucket(bucketSeen),
		arrival: tx.Bucket(bucketSeenArrival),
		meta:    tx.Bucket(bucketMeta),
	}
}

func (s *seenSet) load() error {
	if s.loaded {
		return nil
	}
	s.loaded = true
	v := s.meta.Get(keySeenCount)
	switch len(v) {
	case 0:
		s.count = 0
	case 8:
		s.count = int64(binary.BigEndian.Uint64(v))
	default:
		return fmt.Errorf("recorded span count of %d bytes, expecting 8: %w", len(v), errCorrupt)
	}
	return nil
}

// record reports whether key was recorded within the window before
// d.Arrival; if not, it records key at d.Arrival.
func (s *seenSet) record(key SpanKey, d Dedup) (bool, error) {
	if err := s.load(); err != nil {
		return false, err
	}
	now := d.Arrival.UnixNano()
	k := encodeSpanKey(key)
	if old := s.keys.Get(k); old != nil {
		at, err := decodeArrival(old)
		if err != nil {
			return false, fmt.Errorf("span %s: %w", key, err)
		}
		if at >= now-d.Window.Nanoseconds() {
			return true, nil
		}
		// Recorded once, but longer ago than the window: it counts again and
		// is recorded anew.
		if err := s.arrival.Delete(encodeArrivalKey(at, key)); err != nil {
			return false, err
		}
		s.count--
	}
	if err := s.keys.Put(k, binary.BigEndian.AppendUint64(nil, uint64(now))); err != nil {
		return false, err
	}
	if err := s.arrival.Put(encodeArrivalKey(now, key), nil); err != nil {
		return false, err
	}
	s.count++
	s.added++
	return false, nil
}

// trim removes the keys older than the window, and then the oldest keys
// beyond d.MaxEntries, oldest first. It removes at most max(minTrim, 2 ×
// the keys this transaction added), so one commit stays short however far
// behind expiry is; later commits catch up.
func (s *seenSet) trim(d Dedup) (expired, evicted int64, err error) {
	if d.Window <= 0 {
		return 0, 0, nil
	}
	if err := s.load(); err != nil {
		return 0, 0, err
	}
	budget := max(minTrim, 2*s.added)
	cutoff := d.Arrival.UnixNano() - d.Window.Nanoseconds()

	c := s.arrival.Cursor()
	for k, _ := c.First(); k != nil && budget > 0; k, _ = c.First() {
		at, spanKey, err := decodeArrivalKey(k)
		if err != nil {
			return expired, evicted, err
		}
		spanKey = bytes.Clone(spanKey) // k is not ours after the delete
		overLimit := d.MaxEntries > 0 && s.count > int64(d.MaxEntries)
		if at >= cutoff && !overLimit {
			break
		}
		if err := c.Delete(); err != nil {
			return expired, evicted, err
		}
		if err := s.keys.Delete(spanKey); err != nil {
			return expired, evicted, err
		}
		s.count--
		budget--
		if at < cutoff {
			expired++
		} else {
			evicted++
		}
	}
	return expired, evicted, nil
}

// save writes the count of recorded keys.
func (s *seenSet) save() error {
	if !s.loaded {
		return nil
	}
	return s.meta.Put(keySeenCount, binary.BigEndian.AppendUint64(nil, uint64(max(s.count, 0))))
}
