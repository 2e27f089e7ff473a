package usageledgerreceiver

import (
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/usageledger/usageledger/internal/budget"
	"github.com/usageledger/usageledger/internal/ledger"
)

// TestPrometheusNames runs the emitted metric names and attributes through
// the translator the prometheus_remote_write exporter uses, with its default
// strategy (underscore escaping with suffixes), and expects the names and
// labels the usageledger exporter's /metrics serves, as listed in the
// exporter's README and in deploy/README.md for the budgets.
func TestPrometheusNames(t *testing.T) {
	budgets := []budget.State{
		{Org: "acme", Month: "2026-12", Budget: ledger.PicoUSD(1e12)},
		{Org: "acme", Connection: "support-bot", Month: "2026-12", Budget: ledger.PicoUSD(1e12)},
	}
	md := buildMetrics(nil, nil, budgets, utc, nil, time.Now())
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()

	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	labelNamer := otlptranslator.LabelNamer{}
	var got []string
	labels := make(map[string][][]string)
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		var typ otlptranslator.MetricType = otlptranslator.MetricTypeGauge
		var dps pmetric.NumberDataPointSlice
		if m.Type() == pmetric.MetricTypeSum {
			dps = m.Sum().DataPoints()
			if m.Sum().IsMonotonic() {
				typ = otlptranslator.MetricTypeMonotonicCounter
			}
		} else {
			dps = m.Gauge().DataPoints()
		}
		name, err := namer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: typ})
		require.NoError(t, err)
		got = append(got, name)
		for j := 0; j < dps.Len(); j++ {
			var names []string
			for k := range dps.At(j).Attributes().All() {
				label, err := labelNamer.Build(k)
				require.NoError(t, err)
				names = append(names, label)
			}
			labels[name] = append(labels[name], names)
		}
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
		"genai_budget_usd",
		"genai_budget_spend_usd",
		"genai_budget_used_ratio",
		"genai_budget_forecast_usd",
	}, got)
	// The labels of /metrics: org and month for an organization's budget,
	// org, connection and month for a connection's.
	for _, name := range got[11:] {
		assert.Equal(t, [][]string{{"org", "month"}, {"org", "connection", "month"}}, labels[name], name)
	}
}
