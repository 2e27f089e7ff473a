package ledger

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFPTableAgainstModel runs random adds and removes on a table and on a
// plain map of shards and tags to their log entries, and compares every
// lookup. Fingerprints are drawn from small sets, so that many share a
// shard, a home slot, a tag or the whole value, probe runs wrap around the
// end of a shard's slots, and removals move entries back across that end.
func TestFPTableAgainstModel(t *testing.T) {
	const tagShift = 32 - fpShardBits // the lowest bit of the tag
	lastTag := uint64(1)<<32 - 1
	for _, tc := range []struct {
		name string
		fp   func(r *rand.Rand) uint64
	}{
		{"one shard, few tags", func(r *rand.Rand) uint64 { return r.Uint64N(40) << tagShift }},
		{"one shard, tags at the start of the slots", func(r *rand.Rand) uint64 { return (1 + r.Uint64N(8)) << tagShift }},
		{"one shard, tags at the end of the slots", func(r *rand.Rand) uint64 { return (lastTag - r.Uint64N(8)) << tagShift }},
		{"tags zero and one", func(r *rand.Rand) uint64 { return r.Uint64N(2) << tagShift }},
		{"one tag, bits below it differ", func(r *rand.Rand) uint64 { return 7<<tagShift | r.Uint64N(1<<tagShift) }},
		{"every shard", func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"every shard, few homes", func(r *rand.Rand) uint64 {
			return r.Uint64N(fpShards)<<(64-fpShardBits) | r.Uint64N(4)<<tagShift
		}},
		{"every shard, at the end of the slots", func(r *rand.Rand) uint64 {
			return r.Uint64N(fpShards)<<(64-fpShardBits) | (lastTag-r.Uint64N(4))<<tagShift
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type kept struct {
				shard int
				tag   uint32
			}
			keptAs := func(fp uint64) kept {
				shard, tag := split(fp)
				return kept{shard, tag}
			}
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			table := newFPTable(0)
			model := map[kept][]uint32{}
			type added struct {
				fp    uint64
				entry uint32
			}
			var live []added
			for step := range 20_000 {
				switch {
				case len(live) == 0 || r.IntN(3) > 0:
					// Entry numbers repeat, as the index reuses them.
					a := added{tc.fp(r), uint32(r.IntN(5_000))}
					table.add(a.fp, a.entry)
					model[keptAs(a.fp)] = append(model[keptAs(a.fp)], a.entry)
					live = append(live, a)
				default:
					i := r.IntN(len(live))
					a := live[i]
					live = slices.Delete(live, i, i+1)
					require.True(t, table.remove(a.fp, a.entry), "step %d: remove (%#x, %d)", step, a.fp, a.entry)
					k := keptAs(a.fp)
					j := slices.Index(model[k], a.entry)
					model[k] = slices.Delete(model[k], j, j+1)
				}
				if step%499 == 0 || step > 19_950 {
					require.Equal(t, len(live), table.len(), "step %d", step)
					for k, want := range model {
						var got []uint32
						p := table.probe(uint64(k.shard)<<(64-fpShardBits) | uint64(k.tag)<<tagShift)
						for e, ok := p.next(); ok; e, ok = p.next() {
							got = append(got, e)
						}
						require.ElementsMatch(t, want, got, "step %d, shard %d, tag %d", step, k.shard, k.tag)
					}
				}
			}
			require.False(t, table.remove(tc.fp(r), 1<<31), "an entry never added")
			require.Equal(t, table.len(), len(live))
		})
	}
}

// TestFPTableKeepsTheTag checks which bits of a fingerprint the table
// keeps: the top 8 choose the shard, the next 32 are the tag, the rest are
// not kept, and tag 0 is kept as 1.
func TestFPTableKeepsTheTag(t *testing.T) {
	for _, tc := range []struct {
		fp    uint64
		shard int
		tag   uint32
	}{
		{0x0000_0000_0000_0000, 0, 1},
		{0x0000_0000_00ff_ffff, 0, 1},
		{0x0000_0000_0100_0000, 0, 1},
		{0x0000_0000_0200_0000, 0, 2},
		{0xab12_3456_78ff_ffff, 0xab, 0x1234_5678},
		{0xffff_ffff_ffff_ffff, 0xff, 0xffff_ffff},
	} {
		shard, tag := split(tc.fp)
		assert.Equal(t, tc.shard, shard, "shard of %#x", tc.fp)
		assert.Equal(t, tc.tag, tag, "tag of %#x", tc.fp)
	}
}

// TestFPTableSized checks that a table sized for n keys takes them without
// growing.
func TestFPTableSized(t *testing.T) {
	table := newFPTable(100_000)
	before := len(table.shards[0].slots)
	r := rand.New(rand.NewPCG(2, 3))
	for i := range 100_000 {
		table.add(r.Uint64(), uint32(i))
	}
	for i := range table.shards {
		require.Equal(t, before, len(table.shards[i].slots), "shard %d grew", i)
	}
	require.Equal(t, 100_000, table.len())
}
