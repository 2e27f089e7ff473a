package ledger // import "github.com/usageledger/usageledger/internal/ledger"

// fpTable is the table of the dedup index: it maps 64-bit fingerprints to
// the numbers of the log entries holding their keys, a fingerprint to
// several when keys share it.
//
// It is built for the lookup of a key never seen, the common case, in a
// table far larger than the CPU's caches: open addressing with linear
// probing in flat arrays of 8-byte slots, so that a lookup is one read of
// memory, and the next slots of its probe are in the same or the next
// cache line. [fpTable.touch] reads the first slot of many lookups back to
// back, so that their waits for memory overlap instead of adding up.
//
// The table is split by the top 8 bits of the fingerprint into shards that
// grow one at a time, so growing never copies more than one shard: at
// millions of keys, the table never holds two copies of itself. A slot
// keeps the next 32 bits, the tag, and a shard maps a tag to its first slot
// by multiplying, not masking, so that it can be of any size and grow by
// half: a shard grows past three quarters full to half full, and never
// shrinks, so a key takes 10.7 to 16 bytes. A match of shard and tag is a
// candidate, confirmed against the key's bytes: a key never seen meets a
// false one about once in 2³² probes.
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

// fpSlot is one entry: the tag of a fingerprint and the number of a log
// entry (see [seenIndex.entries]). Tag 0 marks a free slot, so tag 0 is
// stored as 1 (see split).
type fpSlot struct {
	tag, entry uint32
}

// split returns the shard of fingerprint fp and the tag it is kept under:
// the 32 bits below the shard's. Tag 0 shares 1's slots: a match is only
// ever a candidate, so this adds one candidate in 2³² lookups and changes
// no answer.
func split(fp uint64) (shard int, tag uint32) {
	return int(fp >> (64 - fpShardBits)), max(uint32(fp>>(32-fpShardBits)), 1)
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

// home returns the first slot of tag in a shard of n slots: the tag scaled
// to [0, n).
func home(tag uint32, n int) int {
	return int(uint64(tag) * uint64(n) >> 32)
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
	tag   uint32
	i     int
}

// probe starts a walk over the entries of fingerprint fp.
func (t *fpTable) probe(fp uint64) fpProbe {
	shard, tag := split(fp)
	slots := t.shards[shard].slots
	if len(slots) == 0 {
		return fpProbe{}
	}
	return fpProbe{slots: slots, tag: tag, i: home(tag, len(slots))}
}

// next returns the next log entry of the fingerprint, and false when there
// is none left.
func (p *fpProbe) next() (entry uint32, ok bool) {
	if len(p.slots) == 0 {
		return 0, false
	}
	for {
		s := p.slots[p.i]
		if s.tag == 0 {
			p.slots = nil
			return 0, false
		}
		if p.i++; p.i == len(p.slots) {
			p.i = 0
		}
		if s.tag == p.tag {
			return s.entry, true
		}
	}
}

// add adds the entry (fp, entry).
func (t *fpTable) add(fp uint64, entry uint32) {
	shard, tag := split(fp)
	s := &t.shards[shard]
	if (s.used+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	s.put(fpSlot{tag: tag, entry: entry})
}

func (s *fpShard) put(e fpSlot) {
	i := home(e.tag, len(s.slots))
	for s.slots[i].tag != 0 {
		i = s.after(i)
	}
	s.slots[i] = e
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
		if e.tag != 0 {
			s.put(e)
		}
	}
}

// remove takes the entry (fp, entry) out and reports whether there was
// one.
func (t *fpTable) remove(fp uint64, entry uint32) bool {
	shard, tag := split(fp)
	s := &t.shards[shard]
	if len(s.slots) == 0 {
		return false
	}
	i := home(tag, len(s.slots))
	for {
		e := s.slots[i]
		if e.tag == 0 {
			return false
		}
		if e.tag == tag && e.entry == entry {
			break
		}
		i = s.after(i)
	}
	// Close the gap: each later entry of the run whose home slot is not
	// between the gap and itself moves into the gap, so that every entry
	// stays reachable from its home slot without tombstones.
	for j := s.after(i); s.slots[j].tag != 0; j = s.after(j) {
		if s.distance(home(s.slots[j].tag, len(s.slots)), j) >= s.distance(i, j) {
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
		shard, tag := split(fp)
		if slots := t.shards[shard].slots; len(slots) > 0 {
			sum += uint64(slots[home(tag, len(slots))].entry)
		}
	}
	return sum
}
