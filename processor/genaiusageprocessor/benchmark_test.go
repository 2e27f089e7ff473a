package genaiusageprocessor

import (
	"context"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"golang.org/x/sys/unix"
)

// BenchmarkIgnoredSpan measures a span that is not a call: it must cost a
// few lookups and no allocation.
func BenchmarkIgnoredSpan(b *testing.B) {
	p := newTestProcessor(b, nil)
	td, _ := newTraces(b, spanSpec{
		resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
		kind:     ptrace.SpanKindServer,
		attrs: map[string]any{
			"http.request.method": "POST", "http.route": "/v1/answer",
			"http.response.status_code": 200, "server.address": "api.example.com",
		},
	})
	ctx := context.Background()

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.processTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlreadyCountedSpan measures a call a collector in front already
// counted: a lookup of the mark and of the names beside it, no allocation.
func BenchmarkAlreadyCountedSpan(b *testing.B) {
	p := newTestProcessor(b, nil)
	td, _ := newTraces(b, spanSpec{
		resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
		attrs: chat(map[string]any{
			"usageledger.counted": true, "usageledger.org": "acme",
			"usageledger.connection": "support-bot/openai", "usageledger.outcome": "ok",
			"usageledger.model":         "gpt-4o-mini",
			"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
		}),
	})
	ctx := context.Background()

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.processTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSpans is the number of spans in each request the batch benchmarks
// process; the figures are per span.
const benchSpans = 256

// Every request a batch benchmark processes needs spans nobody counted yet:
// copies of it are made outside the timer and the CPU clock, either one just
// before it is processed (warmCopies), as a collector's processor gets a
// request its receiver decoded a moment before and still in the CPU's
// caches, or coldCopies at once, so that most spans have left the caches
// by the time they are processed.
const (
	warmCopies = 1
	coldCopies = 64
)

// runBatches measures the processor over requests of benchSpans spans built
// by fill, which sets span i, each copied just before it is processed;
// ns/span, cpu-ns/span and allocs/span are reported.
func runBatches(b *testing.B, fill func(i int, rs ptrace.ResourceSpans, span ptrace.Span)) {
	runBatchesWith(b, newTestProcessor(b, nil), fill)
}

// runBatchesWith is runBatches with the processor p.
func runBatchesWith(b *testing.B, p *usageProcessor, fill func(i int, rs ptrace.ResourceSpans, span ptrace.Span)) {
	measureBatches(b, warmCopies, processWith(p), fill)
}

// processWith returns p's processTraces for measureBatches.
func processWith(p *usageProcessor) func(context.Context, ptrace.Traces) error {
	return func(ctx context.Context, td ptrace.Traces) error {
		_, err := p.processTraces(ctx, td)
		return err
	}
}

// measureBatches is runBatches with process in place of a processor and
// the requests copied copies at a time.
func measureBatches(
	b *testing.B,
	copies int,
	process func(context.Context, ptrace.Traces) error,
	fill func(i int, rs ptrace.ResourceSpans, span ptrace.Span),
) {
	template := ptrace.NewTraces()
	rs := template.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-bot")
	rs.Resource().Attributes().PutStr("tenant.id", "acme")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range benchSpans {
		span := spans.AppendEmpty()
		var id [8]byte
		binary.BigEndian.PutUint64(id[:], uint64(i+1))
		span.SetSpanID(pcommon.SpanID(id))
		span.SetTraceID(pcommon.TraceID([16]byte{1, byte(i)}))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		fill(i, rs, span)
	}
	ctx := context.Background()

	fresh := make([]ptrace.Traces, copies)
	refill := func() {
		for i := range fresh {
			fresh[i] = ptrace.NewTraces()
			template.CopyTo(fresh[i])
		}
	}
	refill()
	next := 0

	// On a machine other work shares, wall time says little: the CPU time
	// of the benchmark's own thread while it processes is reported too.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if next == copies {
			b.StopTimer()
			refill()
			next = 0
			b.StartTimer()
		}
		before := threadCPU()
		if err := process(ctx, fresh[next]); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPU() - before
		next++
	}
	n := float64(b.N * benchSpans)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/span")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/span")
}

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// openAIChat sets the attributes of an OpenAI chat call with cache reads
// and reasoning, as the OpenTelemetry OpenAI instrumentations write them.
func openAIChat(span ptrace.Span) {
	span.SetName("chat gpt-4o-mini")
	span.SetKind(ptrace.SpanKindClient)
	a := span.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", "openai")
	a.PutStr("gen_ai.request.model", "gpt-4o-mini")
	a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
	a.PutInt("gen_ai.usage.input_tokens", 17903)
	a.PutInt("gen_ai.usage.cache_read.input_tokens", 17817)
	a.PutInt("gen_ai.usage.output_tokens", 1970)
	a.PutInt("gen_ai.usage.reasoning.output_tokens", 956)
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	a.PutStr("server.address", "api.openai.com")
}

// BenchmarkCountedSpan measures OpenAI chat calls with cache and reasoning
// counts being counted, priced and written.
func BenchmarkCountedSpan(b *testing.B) {
	runBatches(b, func(_ int, _ ptrace.ResourceSpans, span ptrace.Span) { openAIChat(span) })
}

// BenchmarkCountedSpanCold is BenchmarkCountedSpan over spans that have
// left the CPU's caches: it adds the memory latency of reading them.
func BenchmarkCountedSpanCold(b *testing.B) {
	measureBatches(b, coldCopies, processWith(newTestProcessor(b, nil)),
		func(_ int, _ ptrace.ResourceSpans, span ptrace.Span) { openAIChat(span) })
}

// BenchmarkCountedSpanWriteFloor measures only what pdata charges for the
// attributes BenchmarkCountedSpan adds to each span: the map grown once and
// nine new values, with nothing derived. No derivation can make a counted
// span cheaper than this.
func BenchmarkCountedSpanWriteFloor(b *testing.B) {
	measureBatches(b, warmCopies, func(_ context.Context, td ptrace.Traces) error {
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < spans.Len(); i++ {
			attrs := spans.At(i).Attributes()
			attrs.EnsureCapacity(attrs.Len() + 9)
			attrs.PutBool("usageledger.counted", true)
			attrs.PutStr("usageledger.org", "acme")
			attrs.PutStr("usageledger.connection", "support-bot/openai")
			attrs.PutStr("usageledger.outcome", "ok")
			attrs.PutStr("usageledger.call_kind", "model")
			attrs.PutStr("usageledger.provider", "openai")
			attrs.PutStr("usageledger.model", "gpt-4o-mini")
			attrs.PutInt("usageledger.cost_picousd", 2531175000)
			attrs.PutDouble("gen_ai.usage.cost", 0.002531175)
		}
		return nil
	}, func(_ int, _ ptrace.ResourceSpans, span ptrace.Span) { openAIChat(span) })
}

// BenchmarkMixedSpans measures a realistic request of an agent service:
// per call an HTTP server span, an in-process invoke_agent span, the model
// call, and a tool call every other time; half of the spans are counted.
func BenchmarkMixedSpans(b *testing.B) {
	runBatches(b, func(i int, _ ptrace.ResourceSpans, span ptrace.Span) { agentRequestSpan(i, span) })
}

// agentRequestSpan sets span i of an agent service's request: an HTTP
// server span, an in-process invoke_agent span, the model call, and a tool
// call, in turn.
func agentRequestSpan(i int, span ptrace.Span) {
	a := span.Attributes()
	switch i % 4 {
	case 0:
		span.SetKind(ptrace.SpanKindServer)
		a.PutStr("http.request.method", "POST")
		a.PutStr("http.route", "/v1/answer")
		a.PutInt("http.response.status_code", 200)
	case 1:
		span.SetKind(ptrace.SpanKindInternal)
		a.PutStr("gen_ai.operation.name", "invoke_agent")
		a.PutStr("gen_ai.agent.name", "support-bot")
		a.PutInt("gen_ai.usage.input_tokens", 17903)
	case 2:
		openAIChat(span)
	case 3:
		span.SetKind(ptrace.SpanKindInternal)
		a.PutStr("gen_ai.operation.name", "execute_tool")
		a.PutStr("gen_ai.tool.name", "search_tickets")
	}
}

func TestIgnoredSpanDoesNotAllocate(t *testing.T) {
	p := newTestProcessor(t, nil)
	ctx := context.Background()
	for _, s := range []spanSpec{
		{kind: ptrace.SpanKindServer, attrs: map[string]any{"http.request.method": "POST"}},
		{kind: ptrace.SpanKindInternal, attrs: map[string]any{
			"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 10,
		}},
		{kind: ptrace.SpanKindInternal, attrs: map[string]any{"gen_ai.system": "openai"}},
		{attrs: chat(map[string]any{"usageledger.counted": true})},
		{attrs: map[string]any{"ai.operationId": "ai.generateText", "ai.usage.promptTokens": 100}},
		{attrs: map[string]any{"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 100}},
		{kind: ptrace.SpanKindServer, attrs: map[string]any{"mcp.method.name": "tools/call"}},
	} {
		td, _ := newTraces(t, s)
		allocs := testing.AllocsPerRun(100, func() {
			_, err := p.processTraces(ctx, td)
			require.NoError(t, err)
		})
		require.Zero(t, allocs, "%v", s.attrs)
	}
}
