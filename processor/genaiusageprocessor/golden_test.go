package genaiusageprocessor

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/pricing"
)

// updateGolden rewrites the files under testdata/golden from the current
// code: go test -run TestGoldenSpans -update. Only do so for a change that
// is meant to change what the processor writes, and review the diff.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the current processor")

// goldenConfigs are the settings every golden input is processed under:
// the defaults, and the settings that change what is written (tool calls
// counted, the span's own cost charged or compared).
var goldenConfigs = []struct {
	name string
	edit func(*Config)
}{
	{"default", func(*Config) {}},
	{"tools-compare", func(cfg *Config) {
		cfg.CountToolCalls = true
		cfg.Pricing.SpanCost = pricing.SpanCostCompare
	}},
	{"reported", func(cfg *Config) { cfg.Pricing.SpanCost = pricing.SpanCostReported }},
}

// goldenInputs returns the requests the golden files record, in order: the
// recorded real clients, the span shapes of the package's table tests
// (testdata/golden/table-shapes.otlp.jsonl, one single-span request a
// line), and the requests the benchmarks measure.
func goldenInputs(t *testing.T) []ptrace.Traces {
	t.Helper()
	var inputs []ptrace.Traces
	for _, name := range []string{
		"otel-openai.otlp.jsonl", "vercel-ai.otlp.jsonl",
		"openllmetry-openai.otlp.jsonl", "openllmetry-anthropic.otlp.jsonl",
		"openinference-openai.otlp.jsonl", "openinference-anthropic.otlp.jsonl",
	} {
		inputs = append(inputs, readRealClient(t, name)...)
	}
	inputs = append(inputs, readJSONLines(t, filepath.Join("testdata", "golden", "table-shapes.otlp.jsonl"))...)
	inputs = append(inputs,
		benchmarkRequest(func(_ int, span ptrace.Span) { openAIChat(span) }),
		benchmarkRequest(agentRequestSpan))
	return inputs
}

// benchmarkRequest returns a request of eight spans of one resource, span i
// set by fill, as the batch benchmarks build them.
func benchmarkRequest(fill func(i int, span ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-bot")
	rs.Resource().Attributes().PutStr("tenant.id", "acme")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range 8 {
		span := spans.AppendEmpty()
		var id [8]byte
		binary.BigEndian.PutUint64(id[:], uint64(i+1))
		span.SetSpanID(pcommon.SpanID(id))
		span.SetTraceID(pcommon.TraceID([16]byte{1, byte(i)}))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		fill(i, span)
	}
	return td
}

// readJSONLines reads one OTLP/JSON traces request per line of path.
func readJSONLines(t *testing.T, path string) []ptrace.Traces {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []ptrace.Traces
	for line := range bytes.Lines(raw) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		require.NoError(t, err)
		out = append(out, td)
	}
	require.NotEmpty(t, out, path)
	return out
}

// TestGoldenSpans holds the processor to the exact output, attribute order
// and value types included, that testdata/golden records for a broad set of
// span shapes under each of goldenConfigs: what a counted span carries must
// not change when its derivation is made faster.
func TestGoldenSpans(t *testing.T) {
	marshaler := &ptrace.JSONMarshaler{}
	for _, gc := range goldenConfigs {
		t.Run(gc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			gc.edit(cfg)
			p := newTestProcessor(t, cfg)

			var got bytes.Buffer
			for _, td := range goldenInputs(t) {
				out, err := p.processTraces(context.Background(), td)
				require.NoError(t, err)
				line, err := marshaler.MarshalTraces(out)
				require.NoError(t, err)
				got.Write(line)
				got.WriteByte('\n')
			}

			path := filepath.Join("testdata", "golden", gc.name+".out.jsonl")
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			wantLines := bytes.Split(want, []byte("\n"))
			gotLines := bytes.Split(got.Bytes(), []byte("\n"))
			require.Len(t, gotLines, len(wantLines))
			for i := range wantLines {
				require.Equal(t, string(wantLines[i]), string(gotLines[i]), "request %d of %s", i, path)
			}
		})
	}
}
