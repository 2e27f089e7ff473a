package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

// sortRuns sorts s by cmp, stably, in time that grows with the number of
// ascending runs s is made of rather than with its length alone: it finds
// the runs and merges neighbours until one is left, n·log2(runs)
// comparisons in all. The rows of a ledger come month by month, each month
// in the file's key order, which is a few sorted runs of the series order
// (see groupRows), where a general sort would compare n·log2(n) times.
func sortRuns(s []int32, cmp func(a, b int32) int) {
	// bounds are where each run starts, and len(s) last.
	bounds := []int{0}
	for i := 1; i < len(s); i++ {
		if cmp(s[i-1], s[i]) > 0 {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(s))
	if len(bounds) <= 2 {
		return
	}

	src, dst := s, make([]int32, len(s))
	for len(bounds) > 2 {
		// Merge runs 0 and 1, 2 and 3, …; an odd one out is copied. The
		// bounds of the merged runs are written over the old ones, never
		// ahead of those still to be read.
		merged := bounds[:0]
		for i := 0; i+1 < len(bounds); i += 2 {
			lo, mid, hi := bounds[i], bounds[i+1], bounds[i+1]
			if i+2 < len(bounds) {
				hi = bounds[i+2]
			}
			mergeRuns(dst[lo:hi], src[lo:mid], src[mid:hi], cmp)
			merged = append(merged, lo)
		}
		bounds = append(merged, len(s))
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}

// mergeRuns merges the sorted runs a and b into dst, which has room for
// both; of equal elements, those of a come first.
func mergeRuns(dst, a, b []int32, cmp func(a, b int32) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(a[i], b[j]) <= 0 {
			dst[k] = a[i]
			i++
		} else {
			dst[k] = b[j]
			j++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}
