package stores

import (
	"context"
	"testing"
	"time"

	"github.com/usageledger/usageledger/internal/ledger"
)

// months are the current UTC month and the three before it, "YYYY-MM".
type months struct {
	m0, m1, m2, m3 string
	// start of each month
	s0, s1, s2, s3 time.Time
}

func monthsAt(now time.Time) months {
	u := now.UTC()
	s0 := time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC)
	s1, s2, s3 := s0.AddDate(0, -1, 0), s0.AddDate(0, -2, 0), s0.AddDate(0, -3, 0)
	f := func(t time.Time) string { return t.Format("2006-01") }
	return months{f(s0), f(s1), f(s2), f(s3), s0, s1, s2, s3}
}

// usdPico is whole or half dollars in picodollars.
func usdPico(cents uint64) ledger.Amount { return ledger.PicoUSD(cents * 10_000_000_000) }

// writeTraffic commits the known traffic of the test to the ledger at path.
// The expectations of stores_test.go are computed by hand from this table.
func writeTraffic(t *testing.T, path string, now time.Time, m months) {
	t.Helper()
	store, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	recent := now.Add(-time.Minute).UnixNano()
	mid := func(s time.Time) int64 { return s.AddDate(0, 0, 14).Add(12 * time.Hour).UnixNano() }
	b := ledger.NewBatch()
	add := func(org, conn, month, model string, c ledger.Counters, lastSeen int64) {
		c.FirstSeen, c.LastSeen = lastSeen, lastSeen
		b.Add(ledger.Key{Org: org, Connection: conn, Month: month, Model: model}, c)
	}
	add("acme", "support-bot", m.m0, "gpt-4o", ledger.Counters{Requests: 100, Blocked: 40, RateLimited: 5,
		Errors: 2, InputTokens: 10000, OutputTokens: 2000, Cost: usdPico(6000)}, recent)
	add("acme", "support-bot", m.m0, "gpt-4o-mini", ledger.Counters{Requests: 50, InputTokens: 5000,
		OutputTokens: 1000, Cost: usdPico(500)}, recent)
	add("acme", "support-bot", m.m1, "gpt-4o", ledger.Counters{Requests: 200, InputTokens: 20000,
		OutputTokens: 4000, Cost: usdPico(4000)}, mid(m.s1))
	add("acme", "search", m.m0, "claude-sonnet-4", ledger.Counters{Requests: 40, InputTokens: 8000,
		OutputTokens: 800, Cost: usdPico(2500)}, recent)
	add("acme", "search", m.m1, "claude-sonnet-4", ledger.Counters{Requests: 40, Cost: usdPico(1000)}, mid(m.s1))
	add("acme", "legacy", m.m2, "gpt-4o", ledger.Counters{Requests: 10, Cost: usdPico(100)}, mid(m.s2))
	add("acme", "legacy", m.m3, "gpt-4o", ledger.Counters{Requests: 5, Cost: usdPico(200)}, mid(m.s3))
	add("acme", "newbot", m.m0, "mystery-model", ledger.Counters{Requests: 3, Unpriced: 3, UsageMissing: 1}, recent)
	add("default", "unnamed", m.m0, "gpt-4o", ledger.Counters{Requests: 7, Cost: usdPico(50)}, recent)
	add("globex", "bot", m.m0, "gpt-4o", ledger.Counters{Requests: 10, Cost: usdPico(500)}, recent)

	conn := func(org, name, team, cc string, lastSeen int64) {
		b.SetConnection(ledger.ConnectionID{Org: org, Connection: name},
			ledger.ConnectionInfo{Team: team, CostCenter: cc, LastSeen: lastSeen})
	}
	conn("acme", "support-bot", "care", "cc-100", recent)
	conn("acme", "search", "search", "cc-200", recent)
	conn("acme", "legacy", "care", "cc-100", mid(m.s2))
	conn("acme", "newbot", "lab", "cc-300", recent)
	conn("default", "unnamed", "", "", recent)
	conn("globex", "bot", "g", "cc-g", recent)

	if _, err := store.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}
