package usageledgerexporter

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// withIDs gives the spans of td, in order, the trace ids and span ids
// first, first+1, …, and returns td.
func withIDs(td ptrace.Traces, first byte) ptrace.Traces {
	n := first
	for span := range spansOf(td) {
		span.SetTraceID([16]byte{0: 0x7e, 15: n})
		span.SetSpanID([8]byte{0: 0x5d, 7: n})
		n++
	}
	return td
}

// reasonSet is the attribute set of exporter_usageledger_duplicate_spans
// for one reason.
func reasonSet(reason string) attribute.Set {
	return attribute.NewSet(attribute.String("reason", reason))
}

var gptKey = ledger.Key{Org: "acme", Connection: "bot/openai", Month: "2026-11", Model: "gpt-4o"}

func priced(tokens int) map[string]any {
	return with(call("acme", "bot/openai", "gpt-4o"), usage.AttrInputTokens, tokens, usage.AttrCostPicoUSD, 1000*tokens)
}

func TestRetriedSpansCountOnce(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)

	// Spans 1 and 2 (10 and 20 tokens), then a retry of the same request, a
	// request carrying span 2 twice, and spans 2 and 3 (30 tokens) together.
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}), 1))
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}), 1))
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(20)}), 2))
	repeat := tracesOf(t, span{nov10, priced(20)}, span{nov10, priced(30)})
	r.consume(t, withIDs(repeat, 2))

	// Spans 1, 2 and 3 once each: 3 requests, 60 tokens, 60,000 pUSD.
	got := r.rows(t, "2026-11")[gptKey]
	assert.Equal(t, uint64(3), got.Requests)
	assert.Equal(t, uint64(60), got.InputTokens)
	assert.Equal(t, ledger.PicoUSD(60_000), got.Cost)

	// Deliveries of 2 + 2 + 1 + 2 = 7 spans, of which 4 were repeats.
	metadatatest.AssertEqualExporterUsageledgerDuplicateSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 4, Attributes: reasonSet("span")}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterUsageledgerCalls(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestRepeatInOneRequestCountsOnce(t *testing.T) {
	r := start(t, testConfig(t))
	td := withIDs(tracesOf(t, span{nov10, priced(10)}), 1)
	// The same span (same ids) copied into the request a second time.
	td.ResourceSpans().At(0).CopyTo(td.ResourceSpans().AppendEmpty())
	r.consume(t, td)
	assert.Equal(t, uint64(1), r.rows(t, "2026-11")[gptKey].Requests)
}

func TestReplayAfterRestartCountsOnce(t *testing.T) {
	cfg := testConfig(t)
	first := start(t, cfg)
	first.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 1))
	require.NoError(t, first.traces.Shutdown(context.Background()))

	// A persistent queue replays the request after a restart 6 hours
	// later, inside the default 24h window, together with a new span.
	second := start(t, cfg)
	second.inner.now = func() time.Time { return arrival.Add(6 * time.Hour) }
	second.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}), 1))
	got := second.rows(t, "2026-11")[gptKey]
	assert.Equal(t, uint64(2), got.Requests)
	assert.Equal(t, uint64(30), got.InputTokens) // 10 + 20
}

func TestDedupWindowFromConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dedup.Window = time.Hour
	r := start(t, cfg)
	td := func() ptrace.Traces { return withIDs(tracesOf(t, span{nov10, priced(10)}), 1) }

	r.consume(t, td())
	r.inner.now = func() time.Time { return arrival.Add(time.Hour) }
	r.consume(t, td()) // one hour after: still a repeat
	r.inner.now = func() time.Time { return arrival.Add(time.Hour + time.Second) }
	r.consume(t, td()) // past the window: counts again
	assert.Equal(t, uint64(2), r.rows(t, "2026-11")[gptKey].Requests)
}

func TestDedupOffCountsEveryDelivery(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dedup.Window = 0
	r := start(t, cfg)
	for range 3 {
		r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 1))
	}
	assert.Equal(t, uint64(3), r.rows(t, "2026-11")[gptKey].Requests)
}

func TestDedupBoundIsCounted(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dedup.MaxEntries = 2
	r := start(t, cfg)

	// Three spans in three requests: the third pushes out the first key.
	for i := range byte(3) {
		r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 1+i))
	}
	metadatatest.AssertEqualExporterUsageledgerDedupEvicted(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	// So a repeat of span 1 counts again (4 requests), while one of span 3
	// does not.
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 1))
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 3))
	assert.Equal(t, uint64(4), r.rows(t, "2026-11")[gptKey].Requests)
}

func TestFailedCommitRetryCounts(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}), 1))

	// The ledger closes underneath the exporter, as a failing disk would
	// refuse the commit: span 2 is refused and not recorded.
	store := r.inner.ledger()
	require.NoError(t, store.Close())
	err := r.traces.ConsumeTraces(context.Background(), withIDs(tracesOf(t, span{nov10, priced(20)}), 2))
	require.Error(t, err)

	// A new exporter on the same file takes the retry, which counts.
	cfg2 := *cfg
	cfg2.Metrics.NetAddr.Endpoint = "localhost:0"
	require.NoError(t, r.traces.Shutdown(context.Background()))
	again := start(t, &cfg2)
	again.consume(t, withIDs(tracesOf(t, span{nov10, priced(20)}), 2))
	got := again.rows(t, "2026-11")[gptKey]
	assert.Equal(t, uint64(2), got.Requests)
	assert.Equal(t, uint64(30), got.InputTokens)
}

func TestAdjustedCount(t *testing.T) {
	r := start(t, testConfig(t))
	r.consume(t, tracesOf(t,
		// A span sampled at 1 in 4 stands for 4 calls: 4 requests, 4 × 10
		// tokens, 4 × 10,000 pUSD. The processor writes it as a double.
		span{nov10, with(priced(10), usage.AttrAdjustedCount, 4.0)},
		span{nov10, with(priced(10), usage.AttrAdjustedCount, int64(4), usage.AttrOutcome, "blocked")},
		// Absent is 1; below 1, NaN, too large or not a number reads as 1
		// and is malformed.
		span{nov10, priced(10)},
		span{nov10, with(priced(10), usage.AttrAdjustedCount, 0.5)},
		span{nov10, with(priced(10), usage.AttrAdjustedCount, math.NaN())},
		span{nov10, with(priced(10), usage.AttrAdjustedCount, 1e12)},
		span{nov10, with(priced(10), usage.AttrAdjustedCount, "4")},
	))
	got := r.rows(t, "2026-11")[gptKey]
	// 4 + 4 + 5 × 1 = 13 requests, 130 tokens, 130,000 pUSD; 4 blocked.
	assert.Equal(t, uint64(13), got.Requests)
	assert.Equal(t, uint64(4), got.Blocked)
	assert.Equal(t, uint64(130), got.InputTokens)
	assert.Equal(t, ledger.PicoUSD(130_000), got.Cost)
	metadatatest.AssertEqualExporterUsageledgerMalformedSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 4}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestFractionalAdjustedCount(t *testing.T) {
	r := start(t, testConfig(t))
	// 2,000 spans sampled at 2 in 3 (adjusted count 1.5) with distinct ids:
	// each counts 1 or 2, so the total is between 2,000 and 4,000 and, for
	// ids spread evenly, near 3,000. With the ids below the choice is fixed,
	// so the exact figure is stable; 3 standard deviations of a binomial
	// (2,000, 0.5) are 3 × 22.4 = 67.
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range 2000 {
		sp := ss.AppendEmpty()
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(nov10))
		sp.SetTraceID([16]byte{0: 1, 14: byte(i >> 8), 15: byte(i)})
		sp.SetSpanID([8]byte{0: 2, 6: byte(i >> 8), 7: byte(i)})
		require.NoError(t, sp.Attributes().FromRaw(with(call("acme", "bot/openai", "gpt-4o"),
			usage.AttrAdjustedCount, 1.5)))
	}
	r.consume(t, td)
	got := r.rows(t, "2026-11")[gptKey].Requests
	assert.InDelta(t, 3000, float64(got), 67)

	// A redelivery of the same spans chooses the same way; with dedup off
	// it adds exactly the same number again.
	cfg := testConfig(t)
	cfg.Dedup.Window = 0
	a, b := start(t, cfg), start(t, testConfig(t))
	a.consume(t, td)
	b.consume(t, td)
	assert.Equal(t, a.rows(t, "2026-11")[gptKey].Requests, b.rows(t, "2026-11")[gptKey].Requests)
	assert.Equal(t, got, a.rows(t, "2026-11")[gptKey].Requests)
}

func TestWaitingQueueAnswersAfterCommit(t *testing.T) {
	cfg := testConfig(t)
	q := cfg.QueueConfig.GetOrInsertDefault()
	q.WaitForResult = true
	q.NumConsumers = 4
	require.NoError(t, cfg.Validate())
	r := start(t, cfg)

	// Through a queue that waits for the result, success still means the
	// calls are in the ledger when ConsumeTraces returns.
	r.consume(t, withIDs(tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}), 1))
	got := r.rows(t, "2026-11")[gptKey]
	assert.Equal(t, uint64(2), got.Requests)
	assert.Equal(t, uint64(30), got.InputTokens)
}

// withResponse gives every span of td the trace id 0x7e…01 and the span ids
// first, first+1, …, as withIDs does, and the response id.
func withResponse(t *testing.T, td ptrace.Traces, first byte, response any) ptrace.Traces {
	t.Helper()
	withIDs(td, first)
	for sp := range spansOf(td) {
		sp.SetTraceID([16]byte{0: 0x7e, 15: 1})
		require.NoError(t, sp.Attributes().PutEmpty(usage.AttrResponseID).FromRaw(response))
	}
	return td
}

func TestSpansOfOneResponseCountOnce(t *testing.T) {
	r := start(t, testConfig(t))

	// Spans 1 and 2 of response "chatcmpl-42" in one request (10 and 20
	// tokens): the first in the request counts.
	r.consume(t, withResponse(t, tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}), 1, "chatcmpl-42"))
	// Span 3 of the same response in a later request, and a retry of span 2.
	r.consume(t, withResponse(t, tracesOf(t, span{nov10, priced(30)}), 3, "chatcmpl-42"))
	r.consume(t, withResponse(t, tracesOf(t, span{nov10, priced(20)}), 2, "chatcmpl-42"))
	// Span 4 with another response id counts; span 5 with a response id
	// that is no string reads as none (malformed) and counts by its span.
	r.consume(t, withResponse(t, tracesOf(t, span{nov10, priced(40)}), 4, "chatcmpl-43"))
	r.consume(t, withResponse(t, tracesOf(t, span{nov10, priced(50)}), 5, int64(42)))

	// Spans 1, 4 and 5: 3 requests, 10+40+50 = 100 tokens, 100,000 pUSD.
	got := r.rows(t, "2026-11")[gptKey]
	assert.Equal(t, uint64(3), got.Requests)
	assert.Equal(t, uint64(100), got.InputTokens)
	assert.Equal(t, ledger.PicoUSD(100_000), got.Cost)
	// Spans 2 (in the request of span 1, then again alone) and 3 were
	// second spans of response chatcmpl-42: 3 by response, none by span,
	// since span 2 was never recorded.
	metadatatest.AssertEqualExporterUsageledgerDuplicateSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 3, Attributes: reasonSet("response")}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterUsageledgerMalformedSpans(t, r.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
