package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import "math/bits"

// fpTable is the table of the dedup index: it maps 64-bit fingerprints to
// the sequence numbers of the log entries holding their keys, a
// fingerprint to several when keys share it.
//
// It is built for the lookup of a key never seen, the common case, in a
// table far larger than the CPU's caches: open addressing with linear
// probing in flat arrays of 16-byte slots, so that a lookup is one read
// of memory, and the next slots of its probe are in the same or the next
// cache line. [fpTable.touch] reads the first slot of many lookups back to
// back, so that their waits for memory overlap instead of adding up.
//
// The table is split by the top bits of the fingerprint into shards that
// grow one at a time, so growing never copies more than one shard: at
// millions of keys, the table never holds two copies of itself. A shard
// of any size maps a fingerprint to its first slot by multiplying, not
// masking, so that it can grow by half: a shard grows past three quarters
// full to half full, and never shrinks, so a key takes 21 to 32 bytes.
type fpTable struct {
	shards [fpShards]fpShard
}

const (
	fpShardBits = 8
	fpShards    = 1 << fpShardBits
	// fpMinSlots is the size of a shard's first array.
	fpMinSlots = 16
)

type fpShard struct {
	slots []fpSlot
	used  int
}

// fpSlot is one entry; fp 0 marks a free slot, so fingerprint 0 is stored
// as 1 (see stored).
type fpSlot struct {
	fp, seq uint64
}

// stored returns the value fp is kept as. Fingerprint 0 shares 1's slots:
// a match is only ever a candidate, confirmed against the key's bytes, so
// this adds a candidate once in 2⁶³ keys and changes no answer.
func stored(fp uint64) uint64 {
	return max(fp, 1)
}

// newFPTable returns a table sized for keys fingerprints spread evenly.
func newFPTable(keys int) *fpTable {
	t := &fpTable{}
	if keys <= 0 {
		return t
	}
	// Five eighths full: room for the keys to be spread unevenly over the
	// shards, and for some to be added, before a shard grows.
	size := max(fpMinSlots, (keys/fpShards+1)*8/5)
	for i := range t.shards {
		t.shards[i].slots = make([]fpSlot, size)
	}
	return t
}

// home returns the first slot of fingerprint fp in a shard of n slots:
// the bits below the shard's, scaled to [0, n).
func home(fp uint64, n int) int {
	hi, _ := bits.Mul64(fp<<fpShardBits, uint64(n))
	return int(hi)
}

func (t *fpTable) shard(fp uint64) *fpShard {
	return &t.shards[fp>>(64-fpShardBits)]
}

// len returns the number of entries.
func (t *fpTable) len() int {
	n := 0
	for i := range t.shards {
		n += t.shards[i].used
	}
	return n
}

// fpProbe walks the entries of one fingerprint.
type fpProbe struct {
	slots []fpSlot
	fp    uint64
	i     int
}

// probe starts a walk over the entries of fingerprint fp.
func (t *fpTable) probe(fp uint64) fpProbe {
	fp = stored(fp)
	s := t.shard(fp)
	if len(s.slots) == 0 {
		return fpProbe{}
	}
	return fpProbe{slots: s.slots, fp: fp, i: home(fp, len(s.slots))}
}

// next returns the sequence number of the next entry of the fingerprint,
// and false when there is none left.
func (p *fpProbe) next() (seq uint64, ok bool) {
	if len(p.slots) == 0 {
		return 0, false
	}
	for {
		s := p.slots[p.i]
		if s.fp == 0 {
			p.slots = nil
			return 0, false
		}
		if p.i++; p.i == len(p.slots) {
			p.i = 0
		}
		if s.fp == p.fp {
			return s.seq, true
		}
	}
}

// add adds the entry (fp, seq).
func (t *fpTable) add(fp, seq uint64) {
	fp = stored(fp)
	s := t.shard(fp)
	if (s.used+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	s.put(fp, seq)
}

func (s *fpShard) put(fp, seq uint64) {
	i := home(fp, len(s.slots))
	for s.slots[i].fp != 0 {
		i = s.after(i)
	}
	s.slots[i] = fpSlot{fp: fp, seq: seq}
	s.used++
}

// after returns the slot after i, the first after the last.
func (s *fpShard) after(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// distance returns how many slots on from i slot j is, going round.
func (s *fpShard) distance(i, j int) int {
	if j < i {
		return j + len(s.slots) - i
	}
	return j - i
}

func (s *fpShard) grow() {
	old := s.slots
	s.slots = make([]fpSlot, max(fpMinSlots, len(old)*3/2))
	s.used = 0
	for _, e := range old {
		if e.fp != 0 {
			s.put(e.fp, e.seq)
		}
	}
}

// remove takes the entry (fp, seq) out and reports whether there was one.
func (t *fpTable) remove(fp, seq uint64) bool {
	fp = stored(fp)
	s := t.shard(fp)
	if len(s.slots) == 0 {
		return false
	}
	i := home(fp, len(s.slots))
	for {
		e := s.slots[i]
		if e.fp == 0 {
			return false
		}
		if e.fp == fp && e.seq == seq {
			break
		}
		i = s.after(i)
	}
	// Close the gap: each later entry of the run whose home slot is not
	// between the gap and itself moves into the gap, so that every entry
	// stays reachable from its home slot without tombstones.
	for j := s.after(i); s.slots[j].fp != 0; j = s.after(j) {
		if s.distance(home(s.slots[j].fp, len(s.slots)), j) >= s.distance(i, j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = fpSlot{}
	s.used--
	return true
}

// touch reads the first slot of each fingerprint in fps and returns a sum
// of what it read, which the caller keeps so that the reads stay. Nothing
// in the loop waits for the value of a read, so the reads of memory
// overlap; the lookups that follow find the slots in the cache.
func (t *fpTable) touch(fps []uint64) uint64 {
	var sum uint64
	for _, fp := range fps {
		fp = stored(fp)
		s := &t.shards[fp>>(64-fpShardBits)]
		if n := len(s.slots); n > 0 {
			sum += s.slots[home(fp, n)].seq
		}
	}
	return sum
}
