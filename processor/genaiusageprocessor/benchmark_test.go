package genaiusageprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
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
// counted: one lookup, no allocation.
func BenchmarkAlreadyCountedSpan(b *testing.B) {
	p := newTestProcessor(b, nil)
	td, _ := newTraces(b, spanSpec{
		resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
		attrs: chat(map[string]any{
			"usageledger.counted": true, "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
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

// BenchmarkCountedSpan measures one OpenAI chat call with cache and
// reasoning counts being counted, priced and written.
func BenchmarkCountedSpan(b *testing.B) {
	p := newTestProcessor(b, nil)
	template, _ := newTraces(b, spanSpec{
		resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
		attrs: chat(map[string]any{
			"gen_ai.response.model":                "gpt-4o-mini",
			"gen_ai.usage.input_tokens":            17903,
			"gen_ai.usage.cache_read.input_tokens": 17817,
			"gen_ai.usage.output_tokens":           1970,
			"gen_ai.usage.reasoning.output_tokens": 956,
			"gen_ai.response.finish_reasons":       []any{"stop"},
			"server.address":                       "api.openai.com",
		}),
	})
	ctx := context.Background()

	// Every iteration needs a span nobody counted yet; copies are made in
	// batches outside the timer.
	const batch = 1024
	fresh := make([]ptrace.Traces, batch)
	refill := func() {
		for i := range fresh {
			fresh[i] = ptrace.NewTraces()
			template.CopyTo(fresh[i])
		}
	}
	refill()
	next := 0

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if next == batch {
			b.StopTimer()
			refill()
			next = 0
			b.StartTimer()
		}
		if _, err := p.processTraces(ctx, fresh[next]); err != nil {
			b.Fatal(err)
		}
		next++
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
	} {
		td, _ := newTraces(t, s)
		allocs := testing.AllocsPerRun(100, func() {
			_, err := p.processTraces(ctx, td)
			require.NoError(t, err)
		})
		require.Zero(t, allocs, "%v", s.attrs)
	}
}
