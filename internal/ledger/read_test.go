package ledger

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestConnectionsOfManyIDs asks for runs of neighbouring connections,
// which are stepped to, and for connections far apart, unknown, repeated
// or past the last one, which are sought, and expects each recorded one
// asked for once, with its info, as Connections reads it.
func TestConnectionsOfManyIDs(t *testing.T) {
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: defaultLockTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	b := NewBatch()
	for i := range 500 {
		// Organizations of two lengths and connections of three: the file
		// orders them by length first.
		id := ConnectionID{Org: fmt.Sprintf("org-%d", i%12), Connection: fmt.Sprintf("c-%d", i*7)}
		b.SetConnection(id, CallInfo(fmt.Sprintf("team-%d", i), fmt.Sprintf("cc-%d", i%5), int64(i+1)))
	}
	if _, err := s.commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	all, err := s.connections(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var ids []ConnectionID
	want := make(map[ConnectionID]Connection)
	for i, c := range all {
		// Every connection of the first 200, then one in 9; one in 50
		// twice.
		if i < 200 || i%9 == 0 {
			ids = append(ids, c.ConnectionID)
			want[c.ConnectionID] = c
		}
		if i%50 == 0 {
			ids = append(ids, c.ConnectionID, c.ConnectionID)
			want[c.ConnectionID] = c
		}
	}
	ids = append(ids,
		ConnectionID{Org: "org-1", Connection: "c-0x"},      // between two recorded ones
		ConnectionID{Org: "zzz", Connection: "after-all"},   // past the last
		ConnectionID{Org: "", Connection: ""},               // before the first
		ConnectionID{Org: "org-11", Connection: "c-999999"}, // past its organization
	)
	// The order asked in is not the file's.
	slices.Reverse(ids)

	got, err := s.connectionsOf(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d connections, want %d", len(got), len(want))
	}
	for _, c := range got {
		if w, ok := want[c.ConnectionID]; !ok || w != c {
			t.Fatalf("got %+v; want %+v (asked: %v)", c, w, ok)
		}
		delete(want, c.ConnectionID)
	}
}

// TestRowsOfSeveralMonths reads months listed out of order and twice and
// expects every row of them once, with its key and counters as committed.
func TestRowsOfSeveralMonths(t *testing.T) {
	s, err := openFileStore(filepath.Join(t.TempDir(), "ledger.db"), openOptions{lockTimeout: defaultLockTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	b := NewBatch()
	var want []Row
	for i := range 600 {
		r := Row{
			Key: Key{Org: fmt.Sprintf("org-%d", i%7), Connection: fmt.Sprintf("conn\x00%d", i%13),
				Month: []string{"2026-10", "2026-11", "2026-12"}[i%3], Model: fmt.Sprintf("m-%d", i)},
			Counters: Counters{Requests: uint64(i), Cost: PicoUSD(uint64(i) * 3), FirstSeen: 1, LastSeen: int64(i + 1)},
		}
		b.Add(r.Key, r.Counters)
		if r.Month != "2026-11" {
			want = append(want, r)
		}
	}
	if _, err := s.commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got, err := s.rows(context.Background(), []string{"2026-12", "2026-10", "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	byModel := func(a, b Row) int { return cmp.Compare(a.Model, b.Model) }
	slices.SortFunc(got, byModel)
	slices.SortFunc(want, byModel)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d rows, want %d; first %+v, want %+v", len(got), len(want), got[0], want[0])
	}
}
