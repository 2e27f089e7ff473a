package usageledgerexporter

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// benchTraces is one OTLP request of n counted spans on 8 connections, with
// span ids from seq.
func benchTraces(seq int64, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := ss.AppendEmpty()
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(nov10))
		var tid [16]byte
		for j := range 8 {
			tid[j] = byte(seq >> (8 * j))
		}
		tid[15] = 1
		sp.SetTraceID(tid)
		sp.SetSpanID([8]byte{0: byte(i), 1: byte(i >> 8), 7: 1})
		a := sp.Attributes()
		a.PutBool(usage.AttrCounted, true)
		a.PutStr(usage.AttrOrg, "acme")
		a.PutStr(usage.AttrConnection, "agent-"+strconv.Itoa(i%8)+"/openai")
		a.PutStr(usage.AttrModel, "gpt-4o")
		a.PutStr(usage.AttrOutcome, "ok")
		a.PutStr(usage.AttrTeam, "support")
		a.PutInt(usage.AttrInputTokens, 1200)
		a.PutInt(usage.AttrOutputTokens, 300)
		a.PutInt(usage.AttrCostPicoUSD, 36_000_000)
	}
	return td
}

// BenchmarkConsumeTraces measures an export through the exporter, as the
// OTLP receiver calls it and waits for it, from 1 × and 8 × GOMAXPROCS
// concurrent clients:
// committed and synced to disk (the default), committed without the sync,
// and counted without any commit. It reports spans per second and the
// latency of one export, which is what the ledger adds to an OTLP export.
func BenchmarkConsumeTraces(b *testing.B) {
	const spans = 50
	for _, run := range []struct {
		mode        string
		parallelism int
	}{
		{"durable", 1}, {"nosync", 1}, {"nocommit", 1},
		{"durable", 8}, {"nosync", 8}, {"nocommit", 8},
	} {
		mode := run.mode
		name := mode + "/clients=" + strconv.Itoa(run.parallelism*runtime.GOMAXPROCS(0))
		b.Run(name, func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			cfg.Path = b.TempDir() + "/usage-ledger.db"
			cfg.Metrics.NetAddr.Endpoint = "localhost:0"
			tel := componenttest.NewTelemetry()
			defer func() { _ = tel.Shutdown(context.Background()) }()
			e, err := newLedgerExporter(cfg, metadatatest.NewSettings(tel))
			if err != nil {
				b.Fatal(err)
			}
			if mode == "nosync" {
				e.openOptions = []ledger.Option{ledger.WithoutSync()}
			}
			e.now = func() time.Time { return arrival }
			traces, err := newTraces(context.Background(), metadatatest.NewSettings(tel), e)
			if err != nil {
				b.Fatal(err)
			}
			if err := traces.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = traces.Shutdown(context.Background()) }()

			consume := traces.ConsumeTraces
			if mode == "nocommit" {
				consume = func(_ context.Context, td ptrace.Traces) error {
					e.counter.countTraces(td, arrival)
					return nil
				}
			}
			var seq atomic.Int64
			lat := make(chan []time.Duration, 64)
			b.SetParallelism(run.parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					td := benchTraces(seq.Add(1), spans)
					start := time.Now()
					if err := consume(context.Background(), td); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				lat <- mine
			})
			b.StopTimer()
			close(lat)
			var all []time.Duration
			for l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(b.N*spans)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}
