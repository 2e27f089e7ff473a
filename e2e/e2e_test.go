package e2e

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/collectortest"
)

// fixtureMonth is the month of the recorded spans in testdata/real-clients.
const fixtureMonth = "2026-12"

// TestEndToEnd sends recorded spans from a real instrumentation library over
// OTLP/HTTP, the sample agents' spans over OTLP/gRPC and a span of hostile
// values, then checks the collector's /metrics exactly, before and after a
// restart.
func TestEndToEnd(t *testing.T) {
	months := []string{fixtureMonth}
	if now := time.Now().UTC().Format("2006-01"); now != fixtureMonth {
		months = append(months, now)
	}
	c := collectortest.New(t, collectortest.Binary(t, "`make e2e`"), months)
	c.Start(t)

	postJSONLines(t, c.HTTPAddr, "../testdata/real-clients/otel-openai.otlp.jsonl")
	demo := runDemoAgents(t, c.GRPCAddr)
	postProtobuf(t, c.HTTPAddr, hostileTraces())

	first := scrape(t, c.MetricsAddr)
	checkFixture(t, first)
	checkDemo(t, first, demo)
	checkHostile(t, first)

	c.Stop(t)
	c.Start(t)

	second := scrape(t, c.MetricsAddr)
	checkFixture(t, second)
	checkDemo(t, second, demo)
	checkHostile(t, second)
}

// checkFixture asserts the values that testdata/real-clients/README.md
// gives for otel-openai.otlp.jsonl: six calls on support-bot/openai in org
// acme, one rate-limited, one blocked, one filtered and unpriced.
func checkFixture(t *testing.T, e exposition) {
	t.Helper()
	acme := map[string]string{"org": "acme", "month": fixtureMonth}
	conn := map[string]string{"org": "acme", "connection": "support-bot/openai", "month": fixtureMonth}

	assert.Equal(t, []string{"support-bot/openai"},
		e.labelValues("genai_connection_requests_total", "connection", acme))
	assert.EqualValues(t, 6, e.count("genai_connection_requests_total", conn))
	assert.EqualValues(t, 1, e.count("genai_connection_rate_limited_total", conn))
	assert.EqualValues(t, 1, e.count("genai_connection_blocked_total", conn))
	assert.EqualValues(t, 0, e.count("genai_connection_errors_total", conn))
	assert.EqualValues(t, 1, e.count("genai_connection_filtered_total", conn))
	assert.EqualValues(t, 1, e.count("genai_connection_unpriced_requests_total", conn))
	assert.EqualValues(t, 376, e.count("genai_connection_tokens_total", with(conn, "type", "input")))
	assert.EqualValues(t, 90, e.count("genai_connection_tokens_total", with(conn, "type", "output")))

	// $0.00007232: two gpt-4o-mini chats at 120 × $0.15/M + 30 × $0.60/M =
	// $0.000036 each, and 16 embedding tokens at $0.02/M = $0.00000032.
	assert.EqualValues(t, 72_320_000, e.picoUSD(conn))
	assert.EqualValues(t, 1, e.count("genai_connection_unpriced_requests_total",
		with(conn, "model", "gpt-4o-mini-filter")))
	assert.EqualValues(t, 2, e.count("genai_connection_requests_total", with(conn, "model", "gpt-4o-mini")))
}

// hostileOrg carries a quote, a backslash, a newline and a byte that is not
// UTF-8: the exposition must stay valid and the call still count.
const hostileOrg = "ev\"il\\org\nx\xff"

// hostileTraces is one chat call whose identity holds characters that
// Prometheus text must escape and whose usage attributes are malformed: the
// input count is a string holding a whole number (read as 120), the output
// count is negative (ignored).
func hostileTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", `bad"agent`)
	rs.Resource().Attributes().PutStr("tenant.id", hostileOrg)
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("chat gpt-4o-mini")
	span.SetKind(ptrace.SpanKindClient)
	span.SetTraceID(pcommon.TraceID{1, 2, 3})
	span.SetSpanID(pcommon.SpanID{4, 5, 6})
	end := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-time.Second)))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	attrs := span.Attributes()
	attrs.PutStr("gen_ai.operation.name", "chat")
	attrs.PutStr("gen_ai.provider.name", "openai")
	attrs.PutStr("gen_ai.request.model", "gpt-4o-mini")
	attrs.PutStr("gen_ai.usage.input_tokens", "120")
	attrs.PutInt("gen_ai.usage.output_tokens", -5)
	return td
}

func checkHostile(t *testing.T, e exposition) {
	t.Helper()
	org := map[string]string{"org": "ev\"il\\org\nx\uFFFD", "month": fixtureMonth}
	assert.Equal(t, []string{`bad"agent/openai`},
		e.labelValues("genai_connection_requests_total", "connection", org))
	assert.EqualValues(t, 1, e.count("genai_connection_requests_total", org))
	assert.EqualValues(t, 120, e.count("genai_connection_tokens_total", with(org, "type", "input")))
	assert.EqualValues(t, 0, e.count("genai_connection_tokens_total", with(org, "type", "output")))
	// 120 input tokens at $0.15/M = $0.000018.
	assert.EqualValues(t, 18_000_000, e.picoUSD(org))
}

// postJSONLines sends each line of an OTLP/HTTP JSON recording as one export
// request, as the recorded library did.
func postJSONLines(t *testing.T, addr, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		post(t, addr, "application/json", lines.Bytes())
	}
	require.NoError(t, lines.Err())
}

func postProtobuf(t *testing.T, addr string, td ptrace.Traces) {
	t.Helper()
	body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	post(t, addr, "application/x-protobuf", body)
}

func post(t *testing.T, addr, contentType string, body []byte) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/traces", contentType, bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the collector must accept the export")
}

func with(labels map[string]string, name, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[name] = value
	return out
}
