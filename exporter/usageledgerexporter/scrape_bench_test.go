package usageledgerexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
)

// discardResponse is a response writer that keeps only the status and the
// number of body bytes, so that a benchmark measures the exporter and not a
// buffer holding the whole answer.
type discardResponse struct {
	header http.Header
	status int
	bytes  int64
}

func (d *discardResponse) Header() http.Header { return d.header }

func (d *discardResponse) WriteHeader(status int) { d.status = status }

func (d *discardResponse) Write(p []byte) (int, error) {
	d.bytes += int64(len(p))
	return len(p), nil
}

// scrapeLedger commits conns connections of organization org-(i % 100),
// each with one model in each of months, in batches of 20,000 rows.
func scrapeLedger(b *testing.B, store ledger.Store, conns int, months []string) {
	ctx := context.Background()
	batch := ledger.NewBatch()
	for i := range conns {
		org := fmt.Sprintf("org-%d", i%100)
		conn := fmt.Sprintf("agent-%06d/openai", i)
		for j, month := range months {
			seen := nov10.AddDate(0, j, 0).UnixNano()
			batch.Add(ledger.Key{Org: org, Connection: conn, Month: month, Model: "gpt-4o"}, ledger.Counters{
				Requests: uint64(i%97 + 1), Blocked: uint64(i % 3), InputTokens: uint64(i) * 1200,
				OutputTokens: uint64(i) * 300, Cost: ledger.PicoUSD(uint64(i) * 36_000_000),
				FirstSeen: seen, LastSeen: seen,
			})
			batch.SetConnection(ledger.ConnectionID{Org: org, Connection: conn},
				ledger.CallInfo("team-"+fmt.Sprint(i%50), "cc-"+fmt.Sprint(i%20), seen))
		}
		if (i+1)%(20_000/len(months)) == 0 || i == conns-1 {
			if _, err := store.Commit(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = ledger.NewBatch()
		}
	}
}

// watchHeap samples the bytes of heap objects, live or not yet swept,
// every millisecond until the returned function is called, which returns
// the largest sample: close to what the heap adds to the resident memory.
func watchHeap() (peak func() uint64) {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}

// BenchmarkScrape answers GET /metrics over a ledger file of 200,000 rows:
// 100,000 connections with one model in each of the two exposed months,
// and two budgets. It reports the bytes of one answer, uncompressed and
// with Accept-Encoding: gzip, and the peak of the heap while scraping,
// which the ledger built beforehand is part of.
func BenchmarkScrape(b *testing.B) {
	months := []string{"2026-10", "2026-11"}
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(b.TempDir(), "usage-ledger.db")
	cfg.PinnedMonths = months
	cfg.Budgets = BudgetsConfig{
		Organizations: []OrganizationBudget{{Org: "org-1", MonthlyUSD: "500"}},
		Connections:   []ConnectionBudget{{Org: "org-2", Connection: "agent-000002/openai", MonthlyUSD: "50"}},
	}
	store, err := ledger.Open(cfg.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	scrapeLedger(b, store, 100_000, months)

	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	e, err := newLedgerExporter(cfg, metadatatest.NewSettings(tel))
	if err != nil {
		b.Fatal(err)
	}
	e.now = func() time.Time { return arrival }
	e.store = store

	for _, encoding := range []string{"identity", "gzip"} {
		b.Run(encoding, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, metricsPath, nil)
			req.Header.Set("Accept-Encoding", encoding)
			var last *discardResponse
			runtime.GC()
			peak := watchHeap()
			b.ReportAllocs()
			for b.Loop() {
				last = &discardResponse{header: make(http.Header), status: http.StatusOK}
				e.serveMetrics(last, req)
			}
			if last.status != http.StatusOK {
				b.Fatalf("status %d", last.status)
			}
			b.ReportMetric(float64(last.bytes), "bytes/scrape")
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
		})
	}
}
