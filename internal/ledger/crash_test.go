package ledger_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

// The crash test runs a child process that commits in a loop and prints
// "ack <seq>" after each commit returns, kills it with SIGKILL at a random
// moment, reopens the file and checks that every acknowledged commit is
// there, whole, and that none counts twice. Each new child first re-sends
// the commits the previous one had in flight, as a client retries what was
// not acknowledged; dedup must keep those that did land from counting again.
//
// Commit seq adds to each of crashRows rows: 1 request, seq input tokens and
// seq² output tokens. A partial commit leaves rows unequal; a commit counted
// twice or lost leaves sums no set of in-flight commits explains.
const (
	crashWriters = 4
	crashRows    = 8
	envCrashFile = "USAGELEDGER_CRASH_FILE"
	envCrashNext = "USAGELEDGER_CRASH_NEXT" // comma-separated next seq per writer
)

// TestCrashHelperProcess is the child. It does nothing in a normal run.
func TestCrashHelperProcess(t *testing.T) {
	path := os.Getenv(envCrashFile)
	if path == "" {
		t.Skip("runs as the child of TestKillNineLosesNothing")
	}
	s, err := ledger.Open(path, ledger.WithLockTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	next := strings.Split(os.Getenv(envCrashNext), ",")
	fmt.Fprintln(os.Stdout, "ready")
	var wg sync.WaitGroup
	for w := range crashWriters {
		seq, _ := strconv.Atoi(next[w])
		wg.Go(func() {
			for ; ; seq += crashWriters {
				if _, err := s.Commit(context.Background(), crashBatch(seq)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				// One write of a few bytes to a pipe is atomic: the parent
				// sees the whole line or none of it.
				_, _ = os.Stdout.WriteString("ack " + strconv.Itoa(seq) + "\n")
			}
		})
	}
	wg.Wait()
}

func crashBatch(seq int) *ledger.Batch {
	b := ledger.NewBatch()
	b.SetDedup(ledger.Dedup{Arrival: time.Now(), Window: 24 * time.Hour})
	for j := range crashRows {
		var k ledger.SpanKey
		k.Trace[0], k.Trace[1], k.Trace[2], k.Trace[15] = byte(seq), byte(seq>>8), byte(seq>>16), 1
		k.Span[0], k.Span[7] = byte(j), 1
		b.AddSpan(k, ledger.SpanCall{
			Key: ledger.Key{Org: "crash", Connection: "c", Month: "2026-11", Model: "m" + strconv.Itoa(j)},
			Counters: ledger.Counters{
				Requests: 1, InputTokens: uint64(seq), OutputTokens: uint64(seq) * uint64(seq),
			},
		})
	}
	return b
}

func TestKillNineLosesNothing(t *testing.T) {
	rounds := 6
	if os.Getenv("USAGELEDGER_LONG") == "1" {
		rounds = 200
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	// next[w] is writer w's first seq not acknowledged; acked holds the
	// acknowledged ones.
	next := make([]int, crashWriters)
	for w := range next {
		next[w] = w + 1
	}
	acked := make(map[int]bool)
	for round := range rounds {
		killAfter := time.Duration(5+rng.IntN(150)) * time.Millisecond
		for _, seq := range runChild(t, path, next, killAfter) {
			acked[seq] = true
		}
		for w := range next {
			for acked[next[w]] {
				next[w] += crashWriters
			}
		}
		checkCrashLedger(t, path, acked, next, round)
	}

	// The last retry, in this process: the in-flight commits are sent once
	// more, so every seq below next is now in, each exactly once.
	s, err := ledger.Open(path)
	require.NoError(t, err)
	for w := range next {
		_, err := s.Commit(context.Background(), crashBatch(next[w]))
		require.NoError(t, err)
		acked[next[w]] = true
		next[w] += crashWriters
	}
	require.NoError(t, s.Close())
	checkCrashLedger(t, path, acked, nil, rounds)
	t.Logf("%d rounds, %d commits acknowledged", rounds, len(acked))
}

// runChild starts a child writing from next, kills it after the delay and
// returns the seqs it acknowledged.
func runChild(t *testing.T, path string, next []int, killAfter time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	parts := make([]string, len(next))
	for i, n := range next {
		parts[i] = strconv.Itoa(n)
	}
	cmd.Env = append(os.Environ(), envCrashFile+"="+path, envCrashNext+"="+strings.Join(parts, ","))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	require.NoError(t, err, "child: %s", stderr.String())
	require.Equal(t, "ready\n", first, "child: %s", stderr.String())

	time.Sleep(killAfter)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))

	var seqs []int
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			break // a fragment without its newline is no acknowledgement
		}
		seq, convErr := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "ack "), "\n"))
		require.NoError(t, convErr, "child line %q", line)
		seqs = append(seqs, seq)
	}
	err = cmd.Wait()
	require.Error(t, err, "the child is killed, never done")
	require.NotContains(t, stderr.String(), "ledger", "child failed: %s", stderr.String())
	return seqs
}

// checkCrashLedger checks that the rows are equal (no partial commit) and
// hold the acknowledged seqs plus a subset of the in-flight ones, each once.
// With inFlight nil the rows must hold exactly the acknowledged seqs.
func checkCrashLedger(t *testing.T, path string, acked map[int]bool, inFlight []int, round int) {
	t.Helper()
	s, err := ledger.Open(path)
	require.NoError(t, err, "round %d", round)
	defer s.Close()
	rows, err := s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)

	var want ledger.Counters
	for seq := range acked {
		want.Requests++
		want.InputTokens += uint64(seq)
		want.OutputTokens += uint64(seq) * uint64(seq)
	}
	var got ledger.Counters
	if len(rows) > 0 {
		require.Len(t, rows, crashRows, "round %d", round)
		got = rows[0].Counters
	}
	for _, r := range rows {
		require.Equal(t, got, r.Counters, "round %d: rows differ, a commit landed in part", round)
	}

	// Some subset of the in-flight commits may have landed before the kill.
	for mask := range 1 << len(inFlight) {
		c := want
		for i, seq := range inFlight {
			if mask&(1<<i) != 0 {
				c.Requests++
				c.InputTokens += uint64(seq)
				c.OutputTokens += uint64(seq) * uint64(seq)
			}
		}
		if c.Requests == got.Requests && c.InputTokens == got.InputTokens && c.OutputTokens == got.OutputTokens {
			return
		}
	}
	t.Fatalf("round %d: ledger holds %d requests, %d and %d tokens; acknowledged %d commits (%d, %d tokens) "+
		"and in flight %v: a commit was lost or counted twice",
		round, got.Requests, got.InputTokens, got.OutputTokens, want.Requests, want.InputTokens, want.OutputTokens,
		inFlight)
}
