package usageledgerexporter

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// TestLongNamesAreBounded sends spans whose names would make a ledger key
// longer than bbolt allows (32 KiB), as a sender other than the processor
// might. Before names were bounded here, such a commit failed with a
// retryable error on every retry, and the batch never counted.
func TestLongNamesAreBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	longModel := strings.Repeat("m", 40_000)
	longOrg := strings.Repeat("o", 40_000)
	longConn := "bot/" + strings.Repeat("c", 40_000)
	longTeam := strings.Repeat("t", 40_000)
	r.consume(t, tracesOf(t,
		span{nov10, with(call("acme", "bot", longModel), usage.AttrInputTokens, 7)},
		span{nov10, with(call("acme", "bot", longModel+"x"), usage.AttrInputTokens, 1)},
		span{nov10, with(call(longOrg, longConn, "gpt-4o"), usage.AttrTeam, longTeam)},
		span{nov10, call("acme", "bot", "gpt-4o")},
	))

	// Each long name is booked under its bounded form, 255 bytes; two
	// models differing past the cut stay apart. The three spans with a
	// long name are malformed; the fourth is not.
	rows := r.rows(t, "2026-11")
	key := func(org, conn, model string) ledger.Key {
		return ledger.Key{Org: org, Connection: conn, Month: "2026-11", Model: model}
	}
	assert.Len(t, rows, 4)
	assert.Equal(t, uint64(7), rows[key("acme", "bot", usage.BoundedValue(longModel))].InputTokens)
	assert.Equal(t, uint64(1), rows[key("acme", "bot", usage.BoundedValue(longModel+"x"))].InputTokens)
	assert.Equal(t, uint64(1), rows[key(usage.BoundedValue(longOrg), usage.BoundedValue(longConn), "gpt-4o")].Requests)
	assert.Equal(t, uint64(1), rows[key("acme", "bot", "gpt-4o")].Requests)
	assert.Len(t, usage.BoundedValue(longModel), 255)
	metadatatest.AssertEqualExporterUsageledgerMalformedSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	_, samples := r.scrape(t)
	assert.Equal(t, 1.0, samples["genai_connection_info{connection="+usage.BoundedValue(longConn)+
		",cost_center=,org="+usage.BoundedValue(longOrg)+",team="+usage.BoundedValue(longTeam)+"}"])
}
