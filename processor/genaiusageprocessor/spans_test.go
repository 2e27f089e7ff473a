package genaiusageprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

// testEnd is when test calls end; every built-in price is in effect then.
var testEnd = time.Date(2026, 12, 3, 17, 16, 31, 0, time.UTC)

func newTestProcessor(tb testing.TB, cfg *Config) *usageProcessor {
	tb.Helper()
	if cfg == nil {
		cfg = createDefaultConfig().(*Config)
	}
	prices, err := pricing.Builtin()
	require.NoError(tb, err)
	p, err := newUsageProcessor(processortest.NewNopSettings(metadata.Type), cfg, prices)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, p.shutdown(context.Background())) })
	return p
}

// spanSpec describes one test span.
type spanSpec struct {
	resource map[string]any
	kind     ptrace.SpanKind
	attrs    map[string]any
	status   ptrace.StatusCode
	message  string
	// exception, when set, adds an "exception" event with these attributes.
	exception map[string]any
	// end, when set, is the span's end time instead of testEnd.
	end time.Time
}

// newTraces returns traces holding one span built from s, and that span.
func newTraces(tb testing.TB, s spanSpec) (ptrace.Traces, ptrace.Span) {
	tb.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(tb, rs.Resource().Attributes().FromRaw(s.resource))
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("test")
	kind := s.kind
	if kind == ptrace.SpanKindUnspecified {
		kind = ptrace.SpanKindClient
	}
	span.SetKind(kind)
	end := testEnd
	if !s.end.IsZero() {
		end = s.end
	}
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-time.Second)))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	require.NoError(tb, span.Attributes().FromRaw(s.attrs))
	span.Status().SetCode(s.status)
	span.Status().SetMessage(s.message)
	if s.exception != nil {
		e := span.Events().AppendEmpty()
		e.SetName("exception")
		require.NoError(tb, e.Attributes().FromRaw(s.exception))
	}
	return td, span
}

// process runs the processor over one span built from s and returns the
// span's attributes afterwards.
func process(tb testing.TB, p *usageProcessor, s spanSpec) map[string]any {
	tb.Helper()
	td, span := newTraces(tb, s)
	out, err := p.processTraces(context.Background(), td)
	require.NoError(tb, err)
	require.Equal(tb, 1, out.SpanCount())
	return span.Attributes().AsRaw()
}

// chat returns the attributes of an OpenAI chat call of gpt-4o-mini plus extra.
func chat(extra map[string]any) map[string]any {
	attrs := map[string]any{
		"gen_ai.operation.name": "chat",
		"gen_ai.provider.name":  "openai",
		"gen_ai.request.model":  "gpt-4o-mini",
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return attrs
}
