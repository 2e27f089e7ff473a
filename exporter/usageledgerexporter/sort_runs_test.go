package usageledgerexporter

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortRuns sorts slices of every shape, made of few runs or many,
// against the standard library's stable sort: the same order, ties in
// their first order.
func TestSortRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := map[string]func(n int) []int{
		"random": func(n int) []int {
			v := make([]int, n)
			for i := range v {
				v[i] = rng.IntN(n/4 + 1)
			}
			return v
		},
		"sorted": func(n int) []int {
			v := make([]int, n)
			for i := range v {
				v[i] = i / 3
			}
			return v
		},
		"descending": func(n int) []int {
			v := make([]int, n)
			for i := range v {
				v[i] = n - i
			}
			return v
		},
		// Sorted runs of random lengths, as a ledger's months are.
		"runs": func(n int) []int {
			v := make([]int, 0, n)
			for len(v) < n {
				start, step := rng.IntN(1000), rng.IntN(3)
				for range min(rng.IntN(50)+1, n-len(v)) {
					v = append(v, start)
					start += step
				}
			}
			return v
		},
	}
	for name, shape := range shapes {
		for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
			values := shape(n)
			order := make([]int32, n)
			for i := range order {
				order[i] = int32(i)
			}
			want := slices.Clone(order)
			byValue := func(a, b int32) int { return cmp.Compare(values[a], values[b]) }
			slices.SortStableFunc(want, byValue)
			sortRuns(order, byValue)
			if !slices.Equal(want, order) {
				t.Fatalf("%s of %d: got %v; want %v", name, n, order, want)
			}
		}
	}
}
