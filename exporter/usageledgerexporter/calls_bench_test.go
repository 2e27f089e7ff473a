package usageledgerexporter

import (
	"encoding/binary"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// countSpans is the number of spans in each request the counting
// benchmarks count; the figures are per span.
const countSpans = 256

// countedChat sets span i as the genaiusage processor leaves an OpenAI chat
// call with cache reads and reasoning: the attributes the instrumentation
// wrote, then the ones the processor added, in the order it adds them.
func countedChat(i int, span ptrace.Span) {
	span.SetKind(ptrace.SpanKindClient)
	a := span.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", "openai")
	a.PutStr("gen_ai.request.model", "gpt-4o-mini")
	a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
	a.PutInt(usage.AttrInputTokens, 17903)
	a.PutInt(usage.AttrCacheReadTokens, 17817)
	a.PutInt(usage.AttrOutputTokens, 1970)
	a.PutInt(usage.AttrReasoningTokens, 956)
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	a.PutStr("server.address", "api.openai.com")
	a.PutStr("gen_ai.response.id", "chatcmpl-"+strconv.Itoa(i))

	a.PutBool(usage.AttrCounted, true)
	a.PutStr(usage.AttrOrg, "acme")
	a.PutStr(usage.AttrConnection, "support-bot/openai")
	a.PutStr(usage.AttrOutcome, "ok")
	a.PutStr(usage.AttrCallKind, "model")
	a.PutStr(usage.AttrProvider, "openai")
	a.PutStr(usage.AttrModel, "gpt-4o-mini")
	a.PutInt(usage.AttrCostPicoUSD, 2_531_175_000)
	a.PutDouble(usage.AttrCostUSD, 0.002531175)
	a.PutStr(usage.AttrResponseID, "chatcmpl-"+strconv.Itoa(i))
}

// uncountedServer sets span i as an HTTP server span, which the exporter
// passes over.
func uncountedServer(_ int, span ptrace.Span) {
	span.SetKind(ptrace.SpanKindServer)
	a := span.Attributes()
	a.PutStr("http.request.method", "POST")
	a.PutStr("http.route", "/v1/answer")
	a.PutInt("http.response.status_code", 200)
	a.PutStr("server.address", "api.example.com")
}

// countRequest returns one request of countSpans spans of one resource,
// span i set by fill.
func countRequest(fill func(i int, span ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-bot")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range countSpans {
		span := spans.AppendEmpty()
		var id [8]byte
		binary.BigEndian.PutUint64(id[:], uint64(i+1))
		span.SetSpanID(pcommon.SpanID(id))
		span.SetTraceID(pcommon.TraceID([16]byte{1, byte(i)}))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(nov10))
		fill(i, span)
	}
	return td
}

// benchmarkCount measures countTraces over requests built by fill, with no
// commit: what the exporter spends reading each span into its batch.
func benchmarkCount(b *testing.B, fill func(i int, span ptrace.Span)) {
	cfg := createDefaultConfig().(*Config)
	cal, err := newLedgerCalendar(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cn := &counter{calendar: cal, guard: newGuard(cfg.Limits, nil, nil), dedup: cfg.Dedup}
	td := countRequest(fill)

	b.ReportAllocs()
	for b.Loop() {
		cn.countTraces(td, arrival)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*countSpans), "ns/span")
}

// BenchmarkCountCountedSpan measures the counting of calls the processor
// counted.
func BenchmarkCountCountedSpan(b *testing.B) { benchmarkCount(b, countedChat) }

// BenchmarkCountUncountedSpan measures spans that are no call: one lookup
// each.
func BenchmarkCountUncountedSpan(b *testing.B) { benchmarkCount(b, uncountedServer) }

// TestCountBenchmarkSpans keeps the benchmarks' spans what they stand for:
// every counted chat span booked with its own tokens and cost, every server
// span passed over.
func TestCountBenchmarkSpans(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cal, err := newLedgerCalendar(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cn := &counter{calendar: cal, guard: newGuard(cfg.Limits, nil, nil), dedup: cfg.Dedup}

	got := cn.countTraces(countRequest(countedChat), arrival)
	if got.calls != countSpans || got.malformed != 0 || got.repeated() != 0 {
		t.Fatalf("counted %d calls, %d malformed, %d repeated; want %d, 0, 0",
			got.calls, got.malformed, got.repeated(), countSpans)
	}
	want := ledger.Key{Org: "acme", Connection: "support-bot/openai", Month: "2026-11", Model: "gpt-4o-mini"}
	var sum ledger.Counters
	n := 0
	for _, c := range got.batch.Spans() {
		if c.Key != want {
			t.Fatalf("booked to %+v; want %+v", c.Key, want)
		}
		if c.Response != ledger.NewResponseKey(c.Response.Trace, "chatcmpl-"+strconv.Itoa(n)) {
			t.Fatalf("span %d has response %+v", n, c.Response)
		}
		sum.Requests += c.Counters.Requests
		sum.InputTokens += c.Counters.InputTokens
		sum.CacheReadTokens += c.Counters.CacheReadTokens
		sum.OutputTokens += c.Counters.OutputTokens
		sum.ReasoningTokens += c.Counters.ReasoningTokens
		sum.Cost = sum.Cost.Add(c.Counters.Cost)
		n++
	}
	// 256 calls of 17,903 input tokens (17,817 of them cache reads), 1,970
	// output tokens (956 of them reasoning) and 2,531,175,000 picodollars.
	if sum.Requests != 256 || sum.InputTokens != 4_583_168 || sum.CacheReadTokens != 4_561_152 ||
		sum.OutputTokens != 504_320 || sum.ReasoningTokens != 244_736 ||
		sum.Cost != ledger.PicoUSD(647_980_800_000) {
		t.Fatalf("booked %+v", sum)
	}

	got = cn.countTraces(countRequest(uncountedServer), arrival)
	if got.calls != 0 || got.batch.Len() != 0 {
		t.Fatalf("counted %d server spans into %d rows and calls; want none", got.calls, got.batch.Len())
	}
}
