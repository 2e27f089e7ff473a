package genaiusageprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// traceSpan is one span of a test request. Spans of one request share a
// trace unless trace is set; parent is the index of the parent span, or -1.
type traceSpan struct {
	name       string
	kind       ptrace.SpanKind
	parent     int
	trace      byte
	attrs      map[string]any
	status     ptrace.StatusCode
	message    string
	exception  map[string]any
	traceState string
	scope      string
}

// processRequest runs p over one request holding spans, all under the
// resource attributes res, and returns every span's attributes afterwards.
func processRequest(tb testing.TB, p *usageProcessor, res map[string]any, spans ...traceSpan) []map[string]any {
	tb.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(tb, rs.Resource().Attributes().FromRaw(res))
	scopes := map[string]ptrace.SpanSlice{}
	built := make([]ptrace.Span, len(spans))
	for i, s := range spans {
		ss, ok := scopes[s.scope]
		if !ok {
			scope := rs.ScopeSpans().AppendEmpty()
			scope.Scope().SetName(s.scope)
			ss = scope.Spans()
			scopes[s.scope] = ss
		}
		span := ss.AppendEmpty()
		span.SetName(s.name)
		span.SetKind(s.kind)
		span.SetTraceID(pcommon.TraceID([16]byte{0xa, s.trace}))
		span.SetSpanID(pcommon.SpanID([8]byte{0xb, byte(i + 1)}))
		if s.parent >= 0 {
			span.SetParentSpanID(pcommon.SpanID([8]byte{0xb, byte(s.parent + 1)}))
		}
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(testEnd.Add(-time.Second)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		require.NoError(tb, span.Attributes().FromRaw(s.attrs))
		span.Status().SetCode(s.status)
		span.Status().SetMessage(s.message)
		span.TraceState().FromRaw(s.traceState)
		if s.exception != nil {
			e := span.Events().AppendEmpty()
			e.SetName("exception")
			require.NoError(tb, e.Attributes().FromRaw(s.exception))
		}
		built[i] = span
	}
	_, err := p.processTraces(context.Background(), td)
	require.NoError(tb, err)
	out := make([]map[string]any, len(built))
	for i, span := range built {
		out[i] = span.Attributes().AsRaw()
	}
	return out
}

// root returns a span without parent.
func root(name string, kind ptrace.SpanKind, attrs map[string]any) traceSpan {
	return traceSpan{name: name, kind: kind, parent: -1, attrs: attrs}
}

// child returns a span whose parent is span parent of the request.
func child(parent int, name string, kind ptrace.SpanKind, attrs map[string]any) traceSpan {
	return traceSpan{name: name, kind: kind, parent: parent, attrs: attrs}
}
