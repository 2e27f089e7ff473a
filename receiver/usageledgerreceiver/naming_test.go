package usageledgerreceiver

import (
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestPrometheusNames runs the emitted metric names through the translator
// the prometheus_remote_write exporter uses, with its default strategy
// (underscore escaping with suffixes), and expects the names the usageledger
// exporter's /metrics serves, as listed in the exporter's README.
func TestPrometheusNames(t *testing.T) {
	md := buildMetrics(nil, nil, utc, time.Now())
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()

	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	var got []string
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		var typ otlptranslator.MetricType = otlptranslator.MetricTypeGauge
		if m.Type() == pmetric.MetricTypeSum && m.Sum().IsMonotonic() {
			typ = otlptranslator.MetricTypeMonotonicCounter
		}
		name, err := namer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: typ})
		require.NoError(t, err)
		got = append(got, name)
	}
	assert.Equal(t, []string{
		"genai_connection_requests_total",
		"genai_connection_blocked_total",
		"genai_connection_rate_limited_total",
		"genai_connection_errors_total",
		"genai_connection_filtered_total",
		"genai_connection_unpriced_requests_total",
		"genai_connection_usage_missing_total",
		"genai_connection_tokens_total",
		"genai_connection_cost_usd_total",
		"genai_connection_last_seen_timestamp_seconds",
		"genai_connection_info",
	}, got)
}
