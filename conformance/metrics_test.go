package conformance

import (
	"math"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// seriesKey names one counter sample of an org by its metric and the
// labels that tell calls apart.
type seriesKey struct {
	metric     string
	connection string
	model      string
	tokenType  string
}

// series maps the samples of an org to their values. Months are added
// together: a call belongs to exactly one month, and the test does not
// care which.
type series map[seriesKey]float64

// scrape reads /metrics with the Prometheus text parser (an exposition that
// does not parse fails the test) and keeps the counters of org.
func scrape(t *testing.T, addr, org string) series {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err, "the exposition must parse as Prometheus text")

	out := series{}
	for name, family := range families {
		if !strings.HasPrefix(name, "genai_connection_") || family.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range family.GetMetric() {
			if label(m, "org") != org {
				continue
			}
			key := seriesKey{
				metric:     name,
				connection: label(m, "connection"),
				model:      label(m, "model"),
				tokenType:  label(m, "type"),
			}
			out[key] += m.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// tally is what the ledger counted for one call: the counters added up
// over every series that changed, and the connections and models of the
// requests counted.
type tally struct {
	connection string
	model      string
	counts     counts
}

// tallyDelta compares two scrapes of one org taken before and after a call.
func tallyDelta(before, after series) tally {
	var tl tally
	var connections, models []string
	for key, value := range after {
		delta := value - before[key]
		if delta == 0 {
			continue
		}
		n := int64(math.Round(delta))
		c := &tl.counts
		switch key.metric {
		case "genai_connection_requests_total":
			c.Requests += n
			connections = appendNew(connections, key.connection)
			models = appendNew(models, key.model)
		case "genai_connection_blocked_total":
			c.Blocked += n
		case "genai_connection_rate_limited_total":
			c.RateLimited += n
		case "genai_connection_errors_total":
			c.Errors += n
		case "genai_connection_filtered_total":
			c.Filtered += n
		case "genai_connection_unpriced_requests_total":
			c.Unpriced += n
		case "genai_connection_usage_missing_total":
			c.UsageMissing += n
		case "genai_connection_cost_usd_total":
			c.CostPicoUSD += int64(math.Round(delta * 1e12))
		case "genai_connection_tokens_total":
			switch key.tokenType {
			case "input":
				c.Input += n
			case "output":
				c.Output += n
			case "cache_read":
				c.CacheRead += n
			case "cache_write":
				c.CacheWrite += n
			case "reasoning":
				c.Reasoning += n
			}
		}
	}
	sort.Strings(connections)
	sort.Strings(models)
	tl.connection = strings.Join(connections, ",")
	tl.model = strings.Join(models, ",")
	return tl
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}
