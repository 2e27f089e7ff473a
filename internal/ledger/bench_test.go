package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchBatch is one export of spans calls on a few connections, each with
// its own span key and, when responses is set, a response key.
func benchBatch(seq int64, spans int, responses bool) *Batch {
	return benchBatchOn(seq, spans, 8, responses)
}

// benchBatchOn is benchBatch with its calls spread over conns connections.
func benchBatchOn(seq int64, spans, conns int, responses bool) *Batch {
	b := NewBatch()
	b.GrowSpans(spans)
	b.SetDedup(Dedup{Arrival: time.Unix(0, seq), Window: 24 * time.Hour, MaxEntries: 10_000_000})
	for i := range spans {
		var k SpanKey
		for j := range 8 {
			k.Trace[j] = byte(seq >> (8 * j))
		}
		k.Trace[15], k.Span[0], k.Span[1], k.Span[7] = 1, byte(i), byte(i>>8), 1
		call := SpanCall{
			Key:      Key{Org: "acme", Connection: "agent-" + strconv.Itoa(i%conns), Month: "2026-11", Model: "gpt-4o"},
			Counters: Counters{Requests: 1, InputTokens: 100, Cost: PicoUSD(1000), LastSeen: seq},
			Info:     CallInfo("team", "", seq),
		}
		if responses {
			call.Response = NewResponseKey(k.Trace, "chatcmpl-"+strconv.Itoa(i))
		}
		b.AddSpan(k, call)
	}
	return b
}

// BenchmarkCommit measures commits of 10-span batches from 1 and 8
// concurrent writers, synced to disk and not, with span keys only and with
// a response key on every span as well, and reports spans per second and
// the latency of one commit.
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []struct {
		name      string
		opts      []Option
		responses bool
	}{
		{"durable", nil, false}, {"nosync", []Option{WithoutSync()}, false},
		{"durable+responses", nil, true}, {"nosync+responses", []Option{WithoutSync()}, true},
	} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode.name, writers), func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "ledger.db"), mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				const spans = 10
				reportLatency(b, commitInParallel(b, s.Commit, writers,
					func(seq int64) *Batch { return benchBatch(seq, spans, mode.responses) }))
				b.ReportMetric(float64(b.N*spans)/b.Elapsed().Seconds(), "spans/s")
			})
		}
	}
}

// commitInParallel runs b.N commits of the batches next builds, numbered
// from 1, from writers goroutines per GOMAXPROCS, and returns the time
// each commit took. The timer runs from its start to its return.
func commitInParallel(b *testing.B, commit func(context.Context, *Batch) (CommitResult, error),
	writers int, next func(seq int64) *Batch,
) []time.Duration {
	var (
		seq atomic.Int64
		mu  sync.Mutex
		all []time.Duration
	)
	b.SetParallelism(writers)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			batch := next(seq.Add(1))
			start := time.Now()
			if _, err := commit(context.Background(), batch); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		all = append(all, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	return all
}

func reportLatency(b *testing.B, all []time.Duration) {
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkCommitGroups runs writers on one core, as the collector runs
// on a core of its own: each builds an export of 256 calls over 200 rows,
// the work a collector does on an export before its commit, commits it and
// starts again. It reports the spans one transaction takes, the latency of
// a commit and, without busy goroutines, the CPU per span (user and
// system, of the whole process), with the commit loop gathering its groups
// and without, so that the two are compared in one run:
//
//   - writers=8: a saturated core. Gathered: two to five times the spans
//     per transaction, 0.5 to 0.6 times the CPU per span.
//   - writers=8,busy=2: the same beside two goroutines that only compute,
//     as other pipelines of the collector might. A yield there waits for
//     their time slices, longer than the commits it gathers would take
//     apart, so the loop mostly skips it: the figures stay near those
//     without gathering (a median commit of 1.5 ms against 1.3).
//   - writers=1,busy=1: a lone writer on a core kept busy by other work,
//     which gathering must not hold back: its yields bring no one, so the
//     loop stops yielding and the commit takes as long as without.
func BenchmarkCommitGroups(b *testing.B) {
	for _, load := range []struct{ writers, busy int }{{8, 0}, {8, 2}, {1, 1}} {
		for _, gather := range []bool{true, false} {
			name := fmt.Sprintf("writers=%d,busy=%d/%s", load.writers, load.busy,
				map[bool]string{true: "gathered", false: "as-waiting"}[gather])
			b.Run(name, func(b *testing.B) { benchmarkCommitGroups(b, load.writers, load.busy, gather) })
		}
	}
}

func benchmarkCommitGroups(b *testing.B, writers, busy int, gather bool) {
	defer func(was bool) { gatherGroups = was }(gatherGroups)
	gatherGroups = gather
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	s, err := openFileStore(filepath.Join(b.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	var stop atomic.Bool
	var computing sync.WaitGroup
	for range busy {
		computing.Go(func() {
			x := uint64(1)
			for !stop.Load() {
				for range 1000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			benchSink.Add(x)
		})
	}
	defer computing.Wait()
	defer stop.Store(true)

	const spans, rows = 256, 200
	firstTx := lastTx(b, s)
	before := cpuTime(b)
	all := commitInParallel(b, s.commit, writers,
		func(seq int64) *Batch { return benchBatchOn(seq, spans, rows, true) })
	cpu := cpuTime(b) - before
	reportLatency(b, all)
	b.ReportMetric(float64(b.N*spans)/float64(lastTx(b, s)-firstTx), "spans/tx")
	if busy == 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*spans), "cpu-ns/span")
	}
}

// benchSink keeps the busy goroutines' arithmetic from being optimized away.
var benchSink atomic.Uint64

// lastTx returns the id of the last write transaction of s's file.
func lastTx(b *testing.B, s *fileStore) int {
	tx, err := s.db.Begin(false)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	return tx.ID()
}

// cpuTime returns the CPU the process has used, in user and system mode.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkFileSize commits rows of distinct connections in one month, and
// then keyed calls without and with a response key, and reports the bytes
// of pages each takes in the file: a connection-month with one model costs
// one row and, once per connection, one connection record; a call with a
// response id records two dedup keys.
func BenchmarkFileSize(b *testing.B) {
	const rows, spans = 20_000, 100_000
	for range b.N {
		s, err := openFileStore(filepath.Join(b.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < rows; i += 1000 {
			batch := NewBatch()
			for j := i; j < i+1000; j++ {
				id := ConnectionID{Org: "org-" + strconv.Itoa(j%100), Connection: "support-bot-" + strconv.Itoa(j) + "/openai"}
				batch.Add(Key{Org: id.Org, Connection: id.Connection, Month: "2026-11", Model: "gpt-4o-mini"},
					Counters{Requests: 1, InputTokens: 1000, FirstSeen: 1, LastSeen: 2})
				batch.SetConnection(id, CallInfo("support", "cc-42", 2))
			}
			if _, err := s.commit(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; i < spans; i += 1000 {
			batch := NewBatch()
			// A window longer than the arrivals span, so that every key
			// is still recorded when the figures are taken.
			batch.SetDedup(Dedup{Arrival: time.Unix(int64(i), 0), Window: 48 * time.Hour})
			for j := i; j < i+1000; j++ {
				var k SpanKey
				// Random-looking ids, as real trace ids are.
				x := uint64(j)*0x9e3779b97f4a7c15 + 1
				for n := range 8 {
					k.Trace[n], k.Trace[8+n], k.Span[n] = byte(x>>(8*n)), byte(x>>(8*n+3)), byte(x>>(8*n+5))
				}
				batch.AddSpan(k, SpanCall{Key: Key{Org: "org-0", Connection: "support-bot-0/openai", Month: "2026-11",
					Model: "gpt-4o-mini"}, Counters: Counters{Requests: 1}})
			}
			if _, err := s.commit(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
		}
		_ = s.db.View(func(tx *bolt.Tx) error {
			size := func(name []byte) float64 {
				st := tx.Bucket(name).Stats()
				return float64(st.BranchAlloc + st.LeafAlloc)
			}
			b.ReportMetric(size(bucketRows)/rows, "bytes/row")
			b.ReportMetric(size(bucketConnections)/rows, "bytes/connection")
			b.ReportMetric(size(bucketSeenLog)/spans, "bytes/dedup-key")
			return nil
		})
		b.ReportMetric(dedupBytes(b, spans), "bytes/call-with-response")
		_ = s.close()
		b.ReportMetric(indexBytes(b, s.path)/spans, "heap-bytes/dedup-key")
	}
}

// dedupBytes commits calls with a span key and a response key each into a
// new file and returns the bytes of dedup pages per call.
func dedupBytes(b *testing.B, calls int) float64 {
	s, err := openFileStore(filepath.Join(b.TempDir(), "responses.db"),
		openOptions{lockTimeout: time.Second, noSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	for i := 0; i < calls; i += 1000 {
		batch := NewBatch()
		batch.SetDedup(Dedup{Arrival: time.Unix(int64(i), 0), Window: 48 * time.Hour})
		for j := i; j < i+1000; j++ {
			var k SpanKey
			x := uint64(j)*0x9e3779b97f4a7c15 + 1
			for n := range 8 {
				k.Trace[n], k.Trace[8+n], k.Span[n] = byte(x>>(8*n)), byte(x>>(8*n+3)), byte(x>>(8*n+5))
			}
			batch.AddSpan(k, SpanCall{Key: Key{Org: "org-0", Connection: "support-bot-0/openai", Month: "2026-11",
				Model: "gpt-4o-mini"}, Counters: Counters{Requests: 1},
				Response: NewResponseKey(k.Trace, "chatcmpl-"+strconv.Itoa(j))})
		}
		if _, err := s.commit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	var bytes float64
	_ = s.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketSeenLog).Stats()
		bytes = float64(st.BranchAlloc + st.LeafAlloc)
		return nil
	})
	return bytes / float64(calls)
}

// indexBytes closes the file at path, reopens it, and returns the heap the
// reopened store holds: its dedup index, rebuilt from the log.
func indexBytes(b *testing.B, path string) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := openFileStore(path, openOptions{lockTimeout: time.Second, noSync: true})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s.seen)
	_ = s.close()
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// BenchmarkCommitFilled measures commits of 256-span exports, each span with
// a response key, into a file that already records a million dedup keys,
// without syncing so that the figure is the CPU of a commit: what one
// counted span costs the ledger once its dedup record is large.
func BenchmarkCommitFilled(b *testing.B) {
	// growing: every key is kept. at-the-bound: dedup::max_entries is the
	// million keys there are, so each commit also forgets as many keys as
	// it records, and trim does as much work as recording.
	for _, bound := range []struct {
		name       string
		maxEntries int
	}{{"growing", 0}, {"at-the-bound", 1_000_000}} {
		b.Run(bound.name, func(b *testing.B) {
			s, err := openFileStore(filepath.Join(b.TempDir(), "ledger.db"), openOptions{lockTimeout: time.Second, noSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			const spans = 256
			seq := int64(0)
			for range 1_000_000 / (2 * spans) {
				seq++
				if _, err := s.commit(context.Background(), benchBatch(seq, spans, true)); err != nil {
					b.Fatal(err)
				}
			}
			batches := make([]*Batch, b.N)
			for i := range batches {
				seq++
				batches[i] = benchBatch(seq, spans, true)
				if bound.maxEntries > 0 {
					d := batches[i].Dedup()
					d.MaxEntries = bound.maxEntries
					batches[i].SetDedup(d)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, batch := range batches {
				if _, err := s.commit(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
		})
	}
}
