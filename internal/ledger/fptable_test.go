package ledger

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFPTableAgainstModel runs random adds and removes on a table and on a
// plain map of fingerprints to their sequence numbers, and compares every
// lookup. Fingerprints are drawn from small sets, so that many share a
// shard, a home slot, or the whole value, probe runs wrap around the end of
// a shard's slots, and removals move entries back across that end.
func TestFPTableAgainstModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		fp   func(r *rand.Rand) uint64
	}{
		{"one shard, few values", func(r *rand.Rand) uint64 { return r.Uint64N(40) }},
		{"one shard, values at the start of the slots", func(r *rand.Rand) uint64 { return 1 + r.Uint64N(8) }},
		{"one shard, values at the end of the slots", func(r *rand.Rand) uint64 { return 1<<(64-fpShardBits) - 1 - r.Uint64N(8) }},
		{"zero and one", func(r *rand.Rand) uint64 { return r.Uint64N(2) }},
		{"every shard", func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"every shard, few homes", func(r *rand.Rand) uint64 { return r.Uint64N(fpShards)<<(64-fpShardBits) | r.Uint64N(4) }},
		{"every shard, at the end of the slots", func(r *rand.Rand) uint64 {
			return r.Uint64N(fpShards)<<(64-fpShardBits) | (1<<(64-fpShardBits) - 1 - r.Uint64N(4))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			table := newFPTable(0)
			model := map[uint64][]uint64{} // by stored fingerprint
			var live [][2]uint64
			for step := range 20_000 {
				switch {
				case len(live) == 0 || r.IntN(3) > 0:
					fp, seq := tc.fp(r), uint64(step)
					table.add(fp, seq)
					model[stored(fp)] = append(model[stored(fp)], seq)
					live = append(live, [2]uint64{fp, seq})
				default:
					i := r.IntN(len(live))
					fp, seq := live[i][0], live[i][1]
					live = slices.Delete(live, i, i+1)
					require.True(t, table.remove(fp, seq), "step %d: remove (%d, %d)", step, fp, seq)
					k := stored(fp)
					model[k] = slices.DeleteFunc(model[k], func(s uint64) bool { return s == seq })
				}
				if step%499 == 0 || step > 19_950 {
					require.Equal(t, len(live), table.len(), "step %d", step)
					for k, want := range model {
						var got []uint64
						p := table.probe(k)
						for seq, ok := p.next(); ok; seq, ok = p.next() {
							got = append(got, seq)
						}
						require.ElementsMatch(t, want, got, "step %d, fingerprint %d", step, k)
					}
				}
			}
			require.False(t, table.remove(tc.fp(r), 1<<40), "an entry never added")
			require.Equal(t, table.len(), len(live))
		})
	}
}

// TestFPTableSized checks that a table sized for n keys takes them without
// growing.
func TestFPTableSized(t *testing.T) {
	table := newFPTable(100_000)
	before := len(table.shards[0].slots)
	r := rand.New(rand.NewPCG(2, 3))
	for i := range 100_000 {
		table.add(r.Uint64(), uint64(i))
	}
	for i := range table.shards {
		require.Equal(t, before, len(table.shards[i].slots), "shard %d grew", i)
	}
	require.Equal(t, 100_000, table.len())
}
