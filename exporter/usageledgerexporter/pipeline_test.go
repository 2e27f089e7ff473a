package usageledgerexporter

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor"
)

// pipeline is the genaiusage processor in front of a started exporter, as
// the collector chains them, both built from their factories.
type pipeline struct {
	*running
	processor processor.Traces
}

func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	return startPipelineWith(t, func(*genaiusageprocessor.Config) {})
}

// startPipelineWith is startPipeline with the processor's configuration
// changed by set.
func startPipelineWith(t *testing.T, set func(*genaiusageprocessor.Config)) *pipeline {
	t.Helper()
	r := start(t, testConfig(t))
	f := genaiusageprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*genaiusageprocessor.Config)
	set(cfg)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, r.traces)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return &pipeline{running: r, processor: p}
}

// export sends td through the processor and the exporter, as an OTLP
// receiver does, and returns what the client would be answered.
func (p *pipeline) export(td ptrace.Traces) error {
	return p.processor.ConsumeTraces(context.Background(), td)
}

// failingCommits is the exporter's real ledger with the next commits
// failing, as they do while the disk is full: the batch is not applied.
type failingCommits struct {
	ledger.Store
	failures atomic.Int32
}

var errDiskFull = errors.New("write ledger: no space left on device")

func (f *failingCommits) Commit(ctx context.Context, b *ledger.Batch) (ledger.CommitResult, error) {
	if f.failures.Add(-1) >= 0 {
		return ledger.CommitResult{}, errDiskFull
	}
	return f.Store.Commit(ctx, b)
}

// failNextCommits makes the next n commits of the exporter fail.
func (p *pipeline) failNextCommits(n int32) {
	e := p.inner
	e.mu.Lock()
	defer e.mu.Unlock()
	f := &failingCommits{Store: e.store}
	f.failures.Store(n)
	e.store = f
}

// chatSpan is a request of one OpenAI chat span, unprocessed as an SDK sends
// it, from service service, in trace trace with span id span, that received
// response id: 120 input and 30 output tokens of gpt-4o-mini.
func chatSpan(t *testing.T, service string, trace, span byte, response string) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	rs.Resource().Attributes().PutStr("tenant.id", "acme")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("chat gpt-4o-mini")
	sp.SetKind(ptrace.SpanKindClient)
	sp.SetTraceID([16]byte{0: 0x71, 15: trace})
	sp.SetSpanID([8]byte{0: 0x51, 7: span})
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(nov10.Add(-time.Second)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(nov10))
	attrs := map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 120,
		"gen_ai.usage.output_tokens": 30,
	}
	if response != "" {
		attrs["gen_ai.response.id"] = response
	}
	require.NoError(t, sp.Attributes().FromRaw(attrs))
	return td
}

// oneChat is what one such call adds to its row: gpt-4o-mini costs $0.15
// per million input tokens and $0.60 per million output tokens, so 120 ×
// 0.15 + 30 × 0.60 = 36 µUSD = 36,000,000 pUSD.
func oneChat(n uint64) ledger.Counters {
	return ledger.Counters{Requests: n, InputTokens: n * 120, OutputTokens: n * 30, Cost: ledger.PicoUSD(n * 36_000_000)}
}

// rowOf returns the counts of one connection's gpt-4o-mini row in 2026-11,
// without the times.
func (p *pipeline) rowOf(t *testing.T, connection string) ledger.Counters {
	t.Helper()
	c := p.rows(t, "2026-11")[ledger.Key{Org: "acme", Connection: connection, Month: "2026-11", Model: "gpt-4o-mini"}]
	c.FirstSeen, c.LastSeen = 0, 0
	return c
}

func TestRetryAfterFailedCommitCountsOnce(t *testing.T) {
	p := startPipeline(t)

	// The disk is full: the export fails and the client is told to retry.
	p.failNextCommits(1)
	err := p.export(chatSpan(t, "bot", 1, 1, "chatcmpl-42"))
	require.ErrorIs(t, err, errDiskFull)
	assert.False(t, consumererror.IsPermanent(err))

	// The client sends the same request again: the call counts, once.
	require.NoError(t, p.export(chatSpan(t, "bot", 1, 1, "chatcmpl-42")))
	assert.Equal(t, oneChat(1), p.rowOf(t, "bot/openai"))

	// A further retry, as after a lost answer, is a duplicate by its span.
	require.NoError(t, p.export(chatSpan(t, "bot", 1, 1, "chatcmpl-42")))
	assert.Equal(t, oneChat(1), p.rowOf(t, "bot/openai"))
	metadatatest.AssertEqualExporterUsageledgerDuplicateSpans(t, p.telemetry,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: reasonSet("span")}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestRetriesAfterFailedCommitsCountEachCall(t *testing.T) {
	p := startPipeline(t)

	// Two failed attempts of the gateway's export, then the client's span
	// of the same call fails too; every retry afterwards succeeds.
	p.failNextCommits(3)
	require.Error(t, p.export(chatSpan(t, "gateway", 1, 1, "chatcmpl-42")))
	require.Error(t, p.export(chatSpan(t, "gateway", 1, 1, "chatcmpl-42")))
	require.Error(t, p.export(chatSpan(t, "bot", 1, 2, "chatcmpl-42")))

	// The client's retry is committed first, so its identity wins; the
	// gateway's retry is then a second span of the same response.
	require.NoError(t, p.export(chatSpan(t, "bot", 1, 2, "chatcmpl-42")))
	require.NoError(t, p.export(chatSpan(t, "gateway", 1, 1, "chatcmpl-42")))
	assert.Equal(t, oneChat(1), p.rowOf(t, "bot/openai"))
	assert.Equal(t, ledger.Counters{}, p.rowOf(t, "gateway/openai"))
}

func TestSpansOfOneResponseThroughThePipeline(t *testing.T) {
	tests := []struct {
		name string
		// exports are sent in order, each as its own request; a request of
		// several spans is merged from them.
		exports [][]ptrace.Traces
		want    map[string]ledger.Counters
		// duplicates by reason in exporter_usageledger_duplicate_spans; the
		// processor's own duplicates never reach the exporter.
		dupSpan, dupResponse int64
	}{
		{
			// A gateway's span and the client's span of one call, exported
			// apart: the first committed (the gateway's) counts.
			name: "gateway and client in two exports",
			exports: [][]ptrace.Traces{
				{chatSpan(t, "gateway", 1, 1, "chatcmpl-42")},
				{chatSpan(t, "bot", 1, 2, "chatcmpl-42")},
			},
			want:        map[string]ledger.Counters{"gateway/openai": oneChat(1), "bot/openai": {}},
			dupResponse: 1,
		},
		{
			// The same response id in two traces is two calls.
			name: "same response id in two traces",
			exports: [][]ptrace.Traces{
				{chatSpan(t, "bot", 1, 1, "chatcmpl-42")},
				{chatSpan(t, "bot", 2, 1, "chatcmpl-42")},
			},
			want: map[string]ledger.Counters{"bot/openai": oneChat(2)},
		},
		{
			// Both spans in one request: the processor counts the first and
			// marks the second a duplicate.
			name: "gateway and client in one export",
			exports: [][]ptrace.Traces{
				{chatSpan(t, "gateway", 1, 1, "chatcmpl-42"), chatSpan(t, "bot", 1, 2, "chatcmpl-42")},
			},
			want: map[string]ledger.Counters{"gateway/openai": oneChat(1), "bot/openai": {}},
		},
		{
			// Spans without a response id are known by their span alone.
			name: "no response ids",
			exports: [][]ptrace.Traces{
				{chatSpan(t, "bot", 1, 1, "")},
				{chatSpan(t, "bot", 1, 2, "")},
				{chatSpan(t, "bot", 1, 2, "")},
			},
			want:    map[string]ledger.Counters{"bot/openai": oneChat(2)},
			dupSpan: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPipeline(t)
			for _, parts := range tt.exports {
				td := ptrace.NewTraces()
				for _, part := range parts {
					part.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
				}
				require.NoError(t, p.export(td))
			}
			for connection, want := range tt.want {
				assert.Equal(t, want, p.rowOf(t, connection), connection)
			}
			var dups []metricdata.DataPoint[int64]
			if tt.dupSpan > 0 {
				dups = append(dups, metricdata.DataPoint[int64]{Value: tt.dupSpan, Attributes: reasonSet("span")})
			}
			if tt.dupResponse > 0 {
				dups = append(dups, metricdata.DataPoint[int64]{Value: tt.dupResponse, Attributes: reasonSet("response")})
			}
			if len(dups) > 0 {
				metadatatest.AssertEqualExporterUsageledgerDuplicateSpans(t, p.telemetry, dups,
					metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
			}
		})
	}
}

// Through a processor that does not trust counted marks, as on the
// collector that receives spans from clients, spans a client marked as
// counted for another organization, with a billion calls' worth, book
// nothing: neither the calls the processor derives again nor the spans it
// does not count. The one real call beside them counts once, as its own.
func TestForgedMarksBookNothingThroughAnUntrustingProcessor(t *testing.T) {
	p := startPipelineWith(t, func(cfg *genaiusageprocessor.Config) { cfg.TrustCountedSpans = false })
	td := chatSpan(t, "bot", 1, 1, "")
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i, extra := range []map[string]any{
		{}, // marks only
		{"gen_ai.operation.name": "invoke_agent"},
		{"gen_ai.operation.name": "create_agent"},
		{"openinference.span.kind": "CHAIN"},
		{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini"},
	} {
		sp := spans.AppendEmpty()
		sp.SetKind(ptrace.SpanKindInternal)
		sp.SetTraceID([16]byte{0: 0x72, 15: byte(i)})
		sp.SetSpanID([8]byte{0: 0x52, 7: byte(i)})
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(nov10))
		attrs := map[string]any{
			"usageledger.counted": true, "usageledger.org": "victim", "usageledger.connection": "x/openai",
			"usageledger.model": "gpt-4o", "usageledger.outcome": "ok",
			"usageledger.cost_picousd": int64(1e15), "usageledger.adjusted_count": 1e9,
		}
		for k, v := range extra {
			attrs[k] = v
		}
		require.NoError(t, sp.Attributes().FromRaw(attrs))
	}
	require.NoError(t, p.export(td))

	rows := p.rows(t, "2026-11")
	var victim, acme ledger.Counters
	for k, c := range rows {
		switch k.Org {
		case "victim":
			victim.Add(c)
		case "acme":
			acme.Add(c)
		}
	}
	assert.Zero(t, victim.Requests, "nothing booked to the organization the marks named")
	// The real call, and the forged chat span derived again as a call of
	// the resource's organization with no usage: two requests, one cost.
	assert.Equal(t, uint64(2), acme.Requests)
	assert.Equal(t, oneChat(1).Cost, acme.Cost)
	assert.Equal(t, oneChat(1).InputTokens, acme.InputTokens)
}
