package ledger

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// mappedKiB returns the resident kibibytes of this process's mappings of
// the file at path, as the kernel reports them in /proc/self/smaps.
func mappedKiB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	total, inFile := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"):
			// A mapping starts: address range, permissions, offset,
			// device, inode and, for a file, its path.
			inFile = len(fields) >= 6 && fields[len(fields)-1] == path
		case inFile && len(fields) == 3 && fields[0] == "Rss:":
			kib, err := strconv.Atoi(fields[1])
			require.NoError(t, err)
			total += kib
		}
	}
	require.NoError(t, sc.Err())
	return total
}

// TestOpenLeavesTheFileUnmapped checks that the pages the dedup index
// rebuild, a read of rows and a read of every connection walk do not stay
// in the process's memory, and that the ledger reads the same after they
// are released.
func TestOpenLeavesTheFileUnmapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := openFileStore(path, openOptions{lockTimeout: time.Second, noSync: true})
	require.NoError(t, err)
	// 40 commits of 500 rows and 500 keyed spans: several MiB of pages.
	for c := range 40 {
		b := NewBatch()
		b.SetDedup(Dedup{Arrival: time.Unix(int64(c), 0), Window: 24 * time.Hour, MaxEntries: 1_000_000})
		for i := range 500 {
			n := c*500 + i
			var k SpanKey
			// n+1: an all-zero trace id is no dedup key.
			k.Trace[0], k.Trace[1], k.Trace[2], k.Span[0] = byte(n+1), byte((n+1)>>8), byte((n+1)>>16), 1
			b.AddSpan(k, SpanCall{
				Key:      Key{Org: "acme", Connection: fmt.Sprintf("agent-%05d/openai", n), Month: "2026-11", Model: "gpt-4o"},
				Counters: Counters{Requests: 1, InputTokens: uint64(n)},
			})
		}
		_, err := s.commit(context.Background(), b)
		require.NoError(t, err)
	}
	require.NoError(t, s.close())

	s, err = openFileStore(path, openOptions{lockTimeout: time.Second})
	require.NoError(t, err)
	defer s.close()
	assert.Equal(t, int64(20_000), s.seen.live, "the index holds every key")
	assert.Zero(t, mappedKiB(t, path), "resident pages of the file after open")

	rows, err := s.rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 20_000)
	var input uint64
	for _, r := range rows {
		input += r.InputTokens
	}
	assert.Equal(t, uint64(20_000*19_999/2), input, "0 + 1 + … + 19,999 input tokens")
	assert.Zero(t, mappedKiB(t, path), "resident pages of the file after reading the rows")
	again, err := s.rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	assert.Equal(t, rows, again, "the rows read the same from pages mapped again")
	conns, err := s.connections(context.Background())
	require.NoError(t, err)
	assert.Len(t, conns, 20_000)
	assert.Zero(t, mappedKiB(t, path), "resident pages of the file after reading the connections")

	// A walk of its own leaves the pages mapped, which the measure sees.
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRows).ForEach(func(_, _ []byte) error { return nil })
	}))
	require.Positive(t, mappedKiB(t, path), "a walk of the rows maps their pages")
	releaseMapped(s.db)
	assert.Zero(t, mappedKiB(t, path))
}
