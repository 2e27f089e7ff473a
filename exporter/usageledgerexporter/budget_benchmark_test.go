package usageledgerexporter

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/usageledger/usageledger/internal/ledger"
)

// BenchmarkWriteBudgets writes 10 organization and 100 connection budgets
// over a month of 1000 rows, as one scrape of /metrics does.
func BenchmarkWriteBudgets(b *testing.B) {
	store, err := ledger.Open(filepath.Join(b.TempDir(), "usage-ledger.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, time.December, 16, 12, 0, 0, 0, time.UTC)
	batch := ledger.NewBatch()
	budgets := &BudgetsConfig{}
	for o := range 10 {
		org := fmt.Sprintf("org-%d", o)
		budgets.Organizations = append(budgets.Organizations, OrganizationBudget{Org: org, MonthlyUSD: "500"})
		for c := range 10 {
			conn := fmt.Sprintf("connection-%d", c)
			budgets.Connections = append(budgets.Connections,
				ConnectionBudget{Org: org, Connection: conn, MonthlyUSD: "50.5"})
			for m := range 10 {
				batch.Add(ledger.Key{Org: org, Connection: conn, Month: "2026-12", Model: fmt.Sprintf("m%d", m)},
					ledger.Counters{Requests: 1, Cost: ledger.PicoUSD(1e12)})
			}
		}
	}
	if _, err := store.Commit(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := writeBudgets(ctx, io.Discard, store, budgets, utcCalendar, now); err != nil {
			b.Fatal(err)
		}
	}
}
