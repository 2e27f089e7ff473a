package stores

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// commitHistogram is the name the collector's telemetry gives the
// exporter's commit latency, before any unit or _bucket suffix.
const commitHistogram = "otelcol_exporter_usageledger_commit_duration"

// bucket is one cumulative bucket of a histogram: the count of observations
// at most le.
type bucket struct {
	le    float64
	count float64
}

// commitBuckets reads the commit latency histogram from the collector's own
// metrics at addr, straight from the collector rather than from a store,
// its buckets summed over every series and sorted by bound, +Inf last.
func commitBuckets(t *testing.T, addr string) []bucket {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the collector's telemetry does not parse: %v", err)
	}
	byBound := make(map[float64]float64)
	for name, f := range families {
		if !strings.HasPrefix(name, commitHistogram) || f.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range f.GetMetric() {
			h := m.GetHistogram()
			for _, b := range h.GetBucket() {
				// The text format lists +Inf as a bucket; the parser may
				// keep it or leave it to the sample count.
				if !math.IsInf(b.GetUpperBound(), 1) {
					byBound[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
			byBound[math.Inf(1)] += float64(h.GetSampleCount())
		}
	}
	if len(byBound) == 0 {
		t.Fatalf("the collector's telemetry has no %s histogram", commitHistogram)
	}
	out := make([]bucket, 0, len(byBound))
	for le, n := range byBound {
		out = append(out, bucket{le: le, count: n})
	}
	slices.SortFunc(out, func(a, b bucket) int { return compareFloat(a.le, b.le) })
	return out
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// increase returns what each bucket of after gained since before; both are
// the same histogram, read at two times.
func increase(before, after []bucket) []bucket {
	out := make([]bucket, len(after))
	for i, b := range after {
		out[i] = bucket{le: b.le, count: b.count}
		for _, p := range before {
			if p.le == b.le {
				out[i].count -= p.count
			}
		}
	}
	return out
}

// quantile is the q-quantile of cumulative buckets as PromQL's
// histogram_quantile defines it: the bucket where the rank q × total falls,
// interpolated linearly between its lower bound (the bound below it, 0 for
// the first) and its upper bound; in the +Inf bucket, the highest finite
// bound. It also returns the width of that bucket.
func quantile(q float64, buckets []bucket) (value, width float64, err error) {
	total := buckets[len(buckets)-1].count
	if total == 0 {
		return 0, 0, fmt.Errorf("no observations")
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, b := range buckets {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return buckets[i-1].le, 0, nil
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below), b.le - lower, nil
		}
		lower, below = b.le, b.count
	}
	return 0, 0, fmt.Errorf("rank %v above the total %v", rank, total)
}
