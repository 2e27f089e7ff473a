// Package ledgertest is the contract every [ledger.Store] implementation
// passes: exact sums, atomic commits, durability across reopen, concurrent
// writers, the connection-label rule, and dedup of spans by their ids and
// of calls by their trace and response ids.
package ledgertest // import "github.com/usageledger/usageledger/internal/ledger/ledgertest"

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

// Factory prepares a new, empty ledger for one test and returns a function
// that opens it. Calling open again, before or after closing an earlier
// handle, must reach the same ledger.
type Factory func(t *testing.T) (open func(t *testing.T) ledger.Store)

// Run runs the contract against the ledgers newLedger prepares.
func Run(t *testing.T, newLedger Factory) {
	tests := []struct {
		name string
		test func(t *testing.T, open func(t *testing.T) ledger.Store)
	}{
		{"commit and read back", testReadBack},
		{"commits add up", testCommitsAdd},
		{"rows stay apart", testRowsApart},
		{"reopen keeps everything", testReopen},
		{"failed commit leaves nothing", testFailedCommit},
		{"concurrent commits sum exactly", testConcurrent},
		{"connection labels latest wins", testLatestLabels},
		{"connections of given ids", testConnectionsOf},
		{"cost sums cross 64 bits", testCost128},
		{"closed store", testClosed},
		{"a span counts once", testDedupOnce},
		{"a span counts once across reopen", testDedupReopen},
		{"a span counts again after the window", testDedupWindow},
		{"dedup bound forgets the oldest", testDedupBound},
		{"a failed commit records no span", testDedupFailedCommit},
		{"concurrent deliveries of one span count once", testDedupConcurrent},
		{"dedup off counts every delivery", testDedupOff},
		{"spans without ids always count", testDedupZeroIDs},
		{"two spans of one response count once", testResponseOnce},
		{"a response id in another trace is another call", testResponseOtherTrace},
		{"two spans of one response in one batch count once", testResponseOneBatch},
		{"a failed commit records no response", testResponseFailedCommit},
		{"a response counts once across reopen", testResponseReopen},
		{"a response counts again after the window", testResponseWindow},
		{"response keys share the dedup bound", testResponseBound},
		{"concurrent spans of one response count once", testResponseConcurrent},
		{"dedup off counts every span of a response", testResponseDedupOff},
		{"first zone of a month stays", testZones},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, newLedger(t))
		})
	}
}

var (
	keyChat = ledger.Key{Org: "acme", Connection: "support-bot/openai", Month: "2026-11", Model: "gpt-4o"}
	keyMini = ledger.Key{Org: "acme", Connection: "support-bot/openai", Month: "2026-11", Model: "gpt-4o-mini"}
	keyDec  = ledger.Key{Org: "acme", Connection: "support-bot/openai", Month: "2026-12", Model: "gpt-4o"}
	keyBeta = ledger.Key{Org: "beta", Connection: "support-bot/openai", Month: "2026-11", Model: "gpt-4o"}
	idChat  = ledger.ConnectionID{Org: "acme", Connection: "support-bot/openai"}
)

// full sets every counter to a distinct value so that a field mixed up with
// another one shows.
var full = ledger.Counters{
	Requests: 10, Blocked: 1, RateLimited: 2, Errors: 3, Filtered: 4,
	InputTokens: 1000, OutputTokens: 500, CacheReadTokens: 300, CacheWriteTokens: 200, ReasoningTokens: 100,
	Cost: ledger.PicoUSD(36_000_000), Unpriced: 5, UsageMissing: 6,
	FirstSeen: 1_764_547_200_000_000_000, LastSeen: 1_764_547_300_000_000_000,
}

func commit(t *testing.T, s ledger.Store, rows map[ledger.Key]ledger.Counters) {
	t.Helper()
	b := ledger.NewBatch()
	for k, c := range rows {
		b.Add(k, c)
	}
	mustCommit(t, s, b)
}

// mustCommit commits b and returns what the commit did.
func mustCommit(t *testing.T, s ledger.Store, b *ledger.Batch) ledger.CommitResult {
	t.Helper()
	res, err := s.Commit(context.Background(), b)
	require.NoError(t, err)
	return res
}

// read returns the rows of months by key.
func read(t *testing.T, s ledger.Store, months ...string) map[ledger.Key]ledger.Counters {
	t.Helper()
	rows, err := s.Rows(context.Background(), months)
	require.NoError(t, err)
	out := make(map[ledger.Key]ledger.Counters, len(rows))
	for _, r := range rows {
		_, dup := out[r.Key]
		require.False(t, dup, "row %+v returned twice", r.Key)
		out[r.Key] = r.Counters
	}
	return out
}

func connections(t *testing.T, s ledger.Store) []ledger.Connection {
	t.Helper()
	conns, err := s.Connections(context.Background())
	require.NoError(t, err)
	sort.Slice(conns, func(i, j int) bool {
		a, b := conns[i].ConnectionID, conns[j].ConnectionID
		return a.Org < b.Org || a.Org == b.Org && a.Connection < b.Connection
	})
	return conns
}

func testReadBack(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	b := ledger.NewBatch()
	b.Add(keyChat, full)
	b.SetConnection(idChat, ledger.CallInfo("support", "cc-42", full.LastSeen))
	mustCommit(t, s, b)

	assert.Equal(t, map[ledger.Key]ledger.Counters{keyChat: full}, read(t, s, "2026-11"))
	assert.Equal(t, []ledger.Connection{{
		ConnectionID:   idChat,
		ConnectionInfo: ledger.CallInfo("support", "cc-42", full.LastSeen),
	}}, connections(t, s))
	assert.Empty(t, read(t, s, "2026-10"))
	mustCommit(t, s, ledger.NewBatch())
}

func testCommitsAdd(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	later := ledger.Counters{
		Requests: 1, Errors: 1, InputTokens: 7, Cost: ledger.PicoUSD(4_000_000),
		FirstSeen: full.FirstSeen - 60_000_000_000, LastSeen: full.FirstSeen - 1,
	}
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: full})
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: later})
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: later})

	want := full
	want.Requests = 10 + 1 + 1
	want.Errors = 3 + 1 + 1
	want.InputTokens = 1000 + 7 + 7
	want.Cost = ledger.PicoUSD(36_000_000 + 4_000_000 + 4_000_000)
	want.FirstSeen = full.FirstSeen - 60_000_000_000 // the earliest of the three
	want.LastSeen = full.LastSeen                    // the latest of the three
	assert.Equal(t, map[ledger.Key]ledger.Counters{keyChat: want}, read(t, s, "2026-11"))
}

func testRowsApart(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	one := ledger.Counters{Requests: 1}
	two := ledger.Counters{Requests: 2}
	three := ledger.Counters{Requests: 3}
	four := ledger.Counters{Requests: 4}
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: one, keyMini: two, keyDec: three, keyBeta: four})

	assert.Equal(t, map[ledger.Key]ledger.Counters{keyChat: one, keyMini: two, keyBeta: four},
		read(t, s, "2026-11"))
	assert.Equal(t, map[ledger.Key]ledger.Counters{keyDec: three}, read(t, s, "2026-12"))
	assert.Len(t, read(t, s, "2026-11", "2026-12"), 4)
	assert.Len(t, read(t, s, "2026-12", "2026-12"), 1, "a month asked for twice is read once")
	assert.Empty(t, read(t, s))
	_, err := s.Rows(context.Background(), []string{"2026-13"})
	assert.Error(t, err)
}

func testReopen(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	b := ledger.NewBatch()
	b.Add(keyChat, full)
	b.Add(keyDec, ledger.Counters{Requests: 3})
	b.SetConnection(idChat, ledger.CallInfo("support", "", 5))
	mustCommit(t, s, b)
	require.NoError(t, s.Close())

	s = open(t)
	defer s.Close()
	assert.Equal(t, map[ledger.Key]ledger.Counters{keyChat: full, keyDec: {Requests: 3}},
		read(t, s, "2026-11", "2026-12"))
	assert.Equal(t, []ledger.Connection{{
		ConnectionID: idChat, ConnectionInfo: ledger.CallInfo("support", "", 5),
	}}, connections(t, s))
}

func testFailedCommit(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: full})

	// Many good rows around one bad one, so that a store writing row by row
	// has written some of them when it meets the bad month.
	b := ledger.NewBatch()
	b.Add(keyChat, ledger.Counters{Requests: 1})
	for i := range 50 {
		b.Add(ledger.Key{Org: "acme", Connection: "bulk", Month: "2026-11", Model: string(rune('a' + i))},
			ledger.Counters{Requests: 1})
	}
	b.Add(ledger.Key{Org: "acme", Connection: "bulk", Month: "2026-13", Model: "x"}, ledger.Counters{Requests: 1})
	b.SetConnection(idChat, ledger.ConnectionInfo{Team: "never", LastSeen: 99})
	_, err := s.Commit(context.Background(), b)
	require.Error(t, err)

	assert.Equal(t, map[ledger.Key]ledger.Counters{keyChat: full}, read(t, s, "2026-11"))
	assert.Empty(t, connections(t, s))
}

func testConcurrent(t *testing.T, open func(t *testing.T) ledger.Store) {
	// Two handles, as an exporter and a receiver (or two replicas) hold.
	stores := []ledger.Store{open(t), open(t)}
	defer func() {
		for _, s := range stores {
			require.NoError(t, s.Close())
		}
	}()

	const writers, commits = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := stores[w%len(stores)]
			for range commits {
				b := ledger.NewBatch()
				b.Add(keyChat, ledger.Counters{Requests: 1, InputTokens: 3, Cost: ledger.PicoUSD(7)})
				b.Add(keyDec, ledger.Counters{Requests: 2})
				if _, err := s.Commit(context.Background(), b); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Rows(context.Background(), []string{"2026-11"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	// 8 writers × 25 commits = 200 commits.
	assert.Equal(t, map[ledger.Key]ledger.Counters{
		keyChat: {Requests: 200, InputTokens: 600, Cost: ledger.PicoUSD(1400)},
		keyDec:  {Requests: 400},
	}, read(t, stores[0], "2026-11", "2026-12"))
}

func testLatestLabels(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	set := func(infos ...ledger.ConnectionInfo) {
		b := ledger.NewBatch()
		for _, info := range infos {
			b.SetConnection(idChat, info)
		}
		mustCommit(t, s, b)
	}
	info := func() ledger.ConnectionInfo {
		conns := connections(t, s)
		require.Len(t, conns, 1)
		return conns[0].ConnectionInfo
	}
	call := ledger.CallInfo

	set(call("a", "1", 200))
	assert.Equal(t, call("a", "1", 200), info())

	// A late call committed afterwards does not bring back older labels.
	set(call("b", "2", 100))
	assert.Equal(t, call("a", "1", 200), info())

	// Within one batch the later call wins too, whatever the order.
	set(call("d", "", 400), call("c", "", 300))
	assert.Equal(t, ledger.ConnectionInfo{
		Team: "d", TeamSeen: 400, CostCenter: "1", CostCenterSeen: 200, LastSeen: 400,
	}, info(), "a call without a cost center keeps the one of an earlier call")

	// A later call with no labels at all moves last seen only.
	set(call("", "", 500))
	assert.Equal(t, ledger.ConnectionInfo{
		Team: "d", TeamSeen: 400, CostCenter: "1", CostCenterSeen: 200, LastSeen: 500,
	}, info())

	// A late call carrying the only cost center newer than 200 sets it,
	// but not its older team.
	set(call("old", "3", 300))
	assert.Equal(t, ledger.ConnectionInfo{
		Team: "d", TeamSeen: 400, CostCenter: "3", CostCenterSeen: 300, LastSeen: 500,
	}, info())

	// On equal times the later commit wins.
	set(call("e", "", 400))
	assert.Equal(t, ledger.ConnectionInfo{
		Team: "e", TeamSeen: 400, CostCenter: "3", CostCenterSeen: 300, LastSeen: 500,
	}, info())
}

func testZones(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	b := ledger.NewBatch()
	b.SetZone("acme", "2025-02", "Asia/Shanghai")
	b.SetZone("acme", "2025-02", "UTC") // the first in a batch stays too
	b.SetZone("beta", "2025-02", "UTC")
	b.SetZone("acme", "2025-01", "Asia/Shanghai")
	mustCommit(t, s, b)

	// The organization moves to UTC: February keeps Shanghai, March is UTC.
	b = ledger.NewBatch()
	b.SetZone("acme", "2025-02", "UTC")
	b.SetZone("acme", "2025-03", "UTC")
	mustCommit(t, s, b)
	require.NoError(t, s.Close())

	s = open(t)
	defer s.Close()
	zones, err := s.Zones(context.Background(), []string{"2025-02", "2025-03"})
	require.NoError(t, err)
	assert.Equal(t, map[ledger.OrgMonth]string{
		{Org: "acme", Month: "2025-02"}: "Asia/Shanghai",
		{Org: "beta", Month: "2025-02"}: "UTC",
		{Org: "acme", Month: "2025-03"}: "UTC",
	}, zones)
	_, err = s.Zones(context.Background(), []string{"2025-3"})
	assert.Error(t, err)
}

func testCost128(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// 1e9 calls at 0.018 USD each: 1e9 × 18,000,000,000 pUSD = 1.8e19 pUSD,
	// just below 2^64 = 18,446,744,073,709,551,616.
	big := ledger.Counters{Requests: 1_000_000_000, Cost: ledger.PicoUSD(18_000_000_000_000_000_000)}
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: big})
	commit(t, s, map[ledger.Key]ledger.Counters{keyChat: big})

	// 3.6e19 - 2^64 = 17,553,255,926,290,448,384 stays in the low word and
	// one carries into the high word.
	got := read(t, s, "2026-11")[keyChat]
	assert.Equal(t, uint64(2_000_000_000), got.Requests)
	assert.Equal(t, ledger.Amount{Hi: 1, Lo: 17_553_255_926_290_448_384}, got.Cost)
	assert.Equal(t, "36000000000000000000", got.Cost.String())
	assert.InDelta(t, 36_000_000.0, got.Cost.USD(), 1e-6) // 3.6e19 pUSD = 36 million USD
}

func testClosed(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close is harmless")

	b := ledger.NewBatch()
	b.Add(keyChat, full)
	_, err := s.Commit(context.Background(), b)
	require.ErrorIs(t, err, ledger.ErrClosed)
	_, err = s.Rows(context.Background(), []string{"2026-11"})
	require.ErrorIs(t, err, ledger.ErrClosed)
	_, err = s.Connections(context.Background())
	require.ErrorIs(t, err, ledger.ErrClosed)
	_, err = s.ConnectionsOf(context.Background(), []ledger.ConnectionID{idChat})
	require.ErrorIs(t, err, ledger.ErrClosed)

	s = open(t)
	defer s.Close()
	assert.Empty(t, read(t, s, "2026-11"), "a commit after Close wrote nothing")
}
