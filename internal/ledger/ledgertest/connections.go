package ledgertest // import "github.com/usageledger/usageledger/internal/ledger/ledgertest"

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

// testConnectionsOf checks that ConnectionsOf returns exactly the recorded
// connections among the ids asked for, once each, with their info.
func testConnectionsOf(t *testing.T, open func(t *testing.T) ledger.Store) {
	s := open(t)
	defer s.Close()

	// Ids whose parts run into each other must stay apart: "ab"/"c" is not
	// "a"/"bc".
	ab := ledger.ConnectionID{Org: "ab", Connection: "c"}
	a := ledger.ConnectionID{Org: "a", Connection: "bc"}
	other := ledger.ConnectionID{Org: "beta", Connection: "bot"}
	b := ledger.NewBatch()
	b.SetConnection(idChat, ledger.CallInfo("support", "cc-42", 100))
	b.SetConnection(ab, ledger.CallInfo("t-ab", "", 200))
	b.SetConnection(other, ledger.CallInfo("", "", 300))
	mustCommit(t, s, b)

	of := func(ids ...ledger.ConnectionID) []ledger.Connection {
		t.Helper()
		conns, err := s.ConnectionsOf(context.Background(), ids)
		require.NoError(t, err)
		sort.Slice(conns, func(i, j int) bool {
			x, y := conns[i].ConnectionID, conns[j].ConnectionID
			return x.Org < y.Org || x.Org == y.Org && x.Connection < y.Connection
		})
		return conns
	}
	assert.Empty(t, of())
	assert.Empty(t, of(a), "a/bc was never recorded")
	assert.Equal(t, []ledger.Connection{
		{ConnectionID: ab, ConnectionInfo: ledger.CallInfo("t-ab", "", 200)},
		{ConnectionID: idChat, ConnectionInfo: ledger.CallInfo("support", "cc-42", 100)},
	}, of(idChat, a, ab, idChat), "asked twice, returned once; beta/bot not asked for")
	assert.Equal(t, connections(t, s), of(other, ab, idChat), "all of them, as Connections reads them")
}
