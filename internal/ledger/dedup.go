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

// seenSet is the record of span and response keys inside one read-write
// transaction: a key bucket to answer "seen?" and an arrival index to expire
// the oldest first. Both kinds of key share the buckets, the window and the
// bound; their lengths tell them apart (see encoding.go).
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

// recent reports whether the key k (an encoded span or response key) was
// recorded within the window before d.Arrival.
func (s *seenSet) recent(k []byte, d Dedup) (bool, error) {
	old := s.keys.Get(k)
	if old == nil {
		return false, nil
	}
	at, err := decodeArrival(old)
	if err != nil {
		return false, err
	}
	return at >= d.Arrival.UnixNano()-d.Window.Nanoseconds(), nil
}

// add records k at d.Arrival. A record of k older than the window is
// replaced: the call counted again and its window starts anew.
func (s *seenSet) add(k []byte, d Dedup) error {
	if err := s.load(); err != nil {
		return err
	}
	if old := s.keys.Get(k); old != nil {
		at, err := decodeArrival(old)
		if err != nil {
			return err
		}
		if err := s.arrival.Delete(encodeArrivalKey(at, k)); err != nil {
			return err
		}
		s.count--
	}
	now := d.Arrival.UnixNano()
	if err := s.keys.Put(k, binary.BigEndian.AppendUint64(nil, uint64(now))); err != nil {
		return err
	}
	if err := s.arrival.Put(encodeArrivalKey(now, k), nil); err != nil {
		return err
	}
	s.count++
	s.added++
	return nil
}

// record decides whether the call of span key sk and response key rk (zero
// when the span reports no response) counts: not when either key was
// recorded within the window. A call that counts has both keys recorded at
// d.Arrival; a duplicate records nothing, so the keys of the first call
// keep their arrival and the first committed span keeps its identity.
func (s *seenSet) record(sk SpanKey, rk ResponseKey, d Dedup) (Repeat, error) {
	span := encodeSpanKey(sk)
	dup, err := s.recent(span, d)
	if err != nil {
		return NotRepeated, fmt.Errorf("span %s: %w", sk, err)
	}
	if dup {
		return RepeatedSpan, nil
	}
	var response []byte
	if !rk.IsZero() {
		response = encodeResponseKey(rk)
		dup, err := s.recent(response, d)
		if err != nil {
			return NotRepeated, fmt.Errorf("response %s: %w", rk, err)
		}
		if dup {
			return RepeatedResponse, nil
		}
	}
	if err := s.add(span, d); err != nil {
		return NotRepeated, fmt.Errorf("span %s: %w", sk, err)
	}
	if response != nil {
		if err := s.add(response, d); err != nil {
			return NotRepeated, fmt.Errorf("response %s: %w", rk, err)
		}
	}
	return NotRepeated, nil
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
		at, key, err := decodeArrivalKey(k)
		if err != nil {
			return expired, evicted, err
		}
		key = bytes.Clone(key) // k is not ours after the delete
		overLimit := d.MaxEntries > 0 && s.count > int64(d.MaxEntries)
		if at >= cutoff && !overLimit {
			break
		}
		if err := c.Delete(); err != nil {
			return expired, evicted, err
		}
		if err := s.keys.Delete(key); err != nil {
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
