package usageledgerreceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/usageledger/usageledger/internal/ledger"
)

// BenchmarkBuildMetrics turns one read of 1000 rows (100 connections of 5
// models over 2 months) into metrics.
func BenchmarkBuildMetrics(b *testing.B) {
	var rows []ledger.Row
	var conns []ledger.Connection
	for c := range 100 {
		name := fmt.Sprintf("connection-%03d", c)
		conns = append(conns, ledger.Connection{
			ConnectionID:   ledger.ConnectionID{Org: "acme", Connection: name},
			ConnectionInfo: ledger.ConnectionInfo{Team: "team", CostCenter: "cc", LastSeen: 1},
		})
		for _, month := range []string{"2026-11", "2026-12"} {
			for m := range 5 {
				rows = append(rows, ledger.Row{
					Key:      ledger.Key{Org: "acme", Connection: name, Month: month, Model: fmt.Sprintf("model-%d", m)},
					Counters: ledger.Counters{Requests: 10, InputTokens: 100, Cost: ledger.PicoUSD(1e9)},
				})
			}
		}
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buildMetrics(rows, conns, nil, utc, nil, now)
	}
}
