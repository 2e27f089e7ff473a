package e2e

import (
	"math"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// exposition is one scrape of a Prometheus text endpoint, parsed by the
// Prometheus text parser: a scrape that does not parse fails the test.
type exposition map[string]*dto.MetricFamily

func scrape(t *testing.T, addr string) exposition {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err, "the exposition must parse as Prometheus text")
	return families
}

// sum adds the values of every sample of the metric whose labels include
// all of match.
func (e exposition) sum(name string, match map[string]string) float64 {
	family, ok := e[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range family.GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// count is sum for metrics whose values are whole numbers.
func (e exposition) count(name string, match map[string]string) int64 {
	return int64(math.Round(e.sum(name, match)))
}

// picoUSD adds the cost samples that match, each converted back to
// integer picodollars, so sums of exact ledger amounts compare exactly.
func (e exposition) picoUSD(match map[string]string) int64 {
	family, ok := e["genai_connection_cost_usd_total"]
	if !ok {
		return 0
	}
	var total int64
	for _, m := range family.GetMetric() {
		if hasLabels(m, match) {
			total += int64(math.Round(m.GetCounter().GetValue() * 1e12))
		}
	}
	return total
}

// labelValues lists the distinct values of label on the metric's samples
// that match.
func (e exposition) labelValues(name, label string, match map[string]string) []string {
	seen := map[string]bool{}
	var values []string
	for _, m := range e[name].GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == label && !seen[l.GetValue()] {
				seen[l.GetValue()] = true
				values = append(values, l.GetValue())
			}
		}
	}
	return values
}

func hasLabels(m *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if want, ok := match[l.GetName()]; ok {
			if l.GetValue() != want {
				return false
			}
			found++
		}
	}
	return found == len(match)
}
