package stores

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// The live traffic goes to organization initech, one connection, and to no
// organization at all. Each round sends the same calls, with new ids.
const (
	liveOrg        = "initech"
	liveConnection = "initech-bot/openai"
	strayAgent     = "stray-agent"
	houseModel     = "initech-house-model" // in no price table
)

// round is what one round of live traffic moves, worked out by hand from
// sendRound's spans and the prices of gpt-4o-mini ($0.15 in, $0.60 out per
// million tokens) and gpt-4o ($2.50 in, $10 out).
var round = struct {
	// Self-metrics of the processor and the exporter.
	processorMalformed, exporterMalformed   float64
	processorDuplicates, exporterDuplicates float64
	overflowed, unpriced                    float64
	// commits of the exporter: request A and three times request B.
	commits float64

	// Ledger figures of the month: initech's connection and the calls
	// booked to organization default.
	requests, costUSD float64
	defaultRequests   float64
	// requestBCostUSD is the cost of request B (h), which the ledger
	// commits after request A: read in between, it holds the round
	// without it.
	requestBCostUSD float64
}{
	processorMalformed:  2, // b1 and b2
	exporterMalformed:   1, // g
	processorDuplicates: 1, // e2
	exporterDuplicates:  2, // the second and third B
	overflowed:          1, // d
	unpriced:            1, // c
	commits:             4,
	// a, b1, b2, c, d, e1, g and h; e2 and the repeated h do not count.
	requests: 8,
	// a 1000 × 0.15e-6 + 500 × 0.6e-6 = 0.00045; b1, b2 1000 × 0.15e-6 =
	// 0.00015 each; c unpriced; d 1000 × 2.5e-6 + 100 × 10e-6 = 0.0035; e1
	// and h 100 × 0.15e-6 + 10 × 0.6e-6 = 0.000021 each; g its own 1e-6.
	costUSD:         0.00045 + 2*0.00015 + 0.0035 + 2*0.000021 + 0.000001,
	defaultRequests: 1, // f
	requestBCostUSD: 0.000021,
}

// sendRound sends one round of live traffic to the collector's OTLP/HTTP
// endpoint at addr; n makes its trace and span ids its own.
//
// Request A holds, for initech's connection: a, a priced call; b1 and b2,
// calls with an output count the processor cannot read; c, a call to a
// model without a price; d, a call to a third model, past
// limits::models_per_connection: 2; e1 and e2, two spans of one response
// in one trace, which the processor counts once; g, a span a collector in
// front already counted, whose input count the exporter cannot read. And f,
// a call of an agent without an organization. Request B is one priced call,
// h, exported three times.
func sendRound(t *testing.T, addr string, n byte) {
	t.Helper()
	end := time.Now()
	ids := func(i byte) (pcommon.TraceID, pcommon.SpanID) {
		return pcommon.TraceID{0x5e, n, i}, pcommon.SpanID{0x5e, n, i}
	}

	a := ptrace.NewTraces()
	initech := resourceSpans(a, map[string]string{"service.name": "initech-bot", "tenant.id": liveOrg})
	chat(initech, ids, 1, end, "gpt-4o-mini", 1000, 500)
	chat(initech, ids, 2, end, "gpt-4o-mini", 1000, -5)
	chat(initech, ids, 3, end, "gpt-4o-mini", 1000, -5)
	chat(initech, ids, 4, end, houseModel, 100, 10)
	chat(initech, ids, 5, end, "gpt-4o", 1000, 100)
	// e1 and e2: one trace, one response id.
	traceID, _ := ids(6)
	for i := byte(6); i <= 7; i++ {
		s := chat(initech, ids, i, end, "gpt-4o-mini", 100, 10)
		s.SetTraceID(traceID)
		s.Attributes().PutStr("gen_ai.response.id", "resp-initech")
	}
	g := initech.AppendEmpty()
	g.SetName("chat gpt-4o-mini")
	gTrace, gSpan := ids(8)
	g.SetTraceID(gTrace)
	g.SetSpanID(gSpan)
	g.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	g.Attributes().PutBool(usage.AttrCounted, true)
	g.Attributes().PutStr(usage.AttrOrg, liveOrg)
	g.Attributes().PutStr(usage.AttrConnection, liveConnection)
	g.Attributes().PutStr(usage.AttrModel, "gpt-4o-mini")
	g.Attributes().PutStr(usage.AttrOutcome, string(usage.OutcomeOK))
	g.Attributes().PutInt(usage.AttrCostPicoUSD, 1_000_000)
	g.Attributes().PutStr(usage.AttrInputTokens, "100")
	g.Attributes().PutInt(usage.AttrOutputTokens, 10)
	stray := resourceSpans(a, map[string]string{"service.name": strayAgent})
	chat(stray, ids, 9, end, "gpt-4o-mini", 100, 10)
	postTraces(t, addr, a)

	b := ptrace.NewTraces()
	chat(resourceSpans(b, map[string]string{"service.name": "initech-bot", "tenant.id": liveOrg}),
		ids, 10, end, "gpt-4o-mini", 100, 10)
	for range 3 {
		postTraces(t, addr, b)
	}
}

func resourceSpans(td ptrace.Traces, attrs map[string]string) ptrace.SpanSlice {
	rs := td.ResourceSpans().AppendEmpty()
	for k, v := range attrs {
		rs.Resource().Attributes().PutStr(k, v)
	}
	return rs.ScopeSpans().AppendEmpty().Spans()
}

// chat appends an OpenAI chat call span that ended at end; a negative
// output count is written as it is, a value the processor cannot read.
func chat(
	spans ptrace.SpanSlice,
	ids func(byte) (pcommon.TraceID, pcommon.SpanID),
	i byte,
	end time.Time,
	model string,
	input, output int64,
) ptrace.Span {
	s := spans.AppendEmpty()
	traceID, spanID := ids(i)
	s.SetTraceID(traceID)
	s.SetSpanID(spanID)
	s.SetName("chat " + model)
	s.SetKind(ptrace.SpanKindClient)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-time.Second)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	attrs := s.Attributes()
	attrs.PutStr("gen_ai.operation.name", "chat")
	attrs.PutStr("gen_ai.provider.name", "openai")
	attrs.PutStr("gen_ai.request.model", model)
	attrs.PutInt("gen_ai.usage.input_tokens", input)
	attrs.PutInt("gen_ai.usage.output_tokens", output)
	return s
}

// postTraces sends td over OTLP/HTTP and expects it accepted: the exporter
// answers only once the calls are committed.
func postTraces(t *testing.T, addr string, td ptrace.Traces) {
	t.Helper()
	body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+addr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP export answered %s; expecting 200 OK", resp.Status)
	}
}
