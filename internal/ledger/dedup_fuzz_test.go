package ledger

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// dedupModel is the dedup contract written as plainly as possible: every
// recorded key with its arrival, kept in the order expiry removes them.
type dedupModel struct {
	records []modelRecord // oldest first: by arrival, then commit, then position
	commits int
	// trimFloor is the least number of records a commit's expiry looks at.
	trimFloor int64
}

type modelRecord struct {
	key     string
	arrival int64
	commit  int
	live    bool
}

func (m *dedupModel) find(key string) int {
	for i := len(m.records) - 1; i >= 0; i-- {
		if m.records[i].live && m.records[i].key == key {
			return i
		}
	}
	return -1
}

func (m *dedupModel) live() int64 {
	var n int64
	for _, r := range m.records {
		if r.live {
			n++
		}
	}
	return n
}

// commit applies calls (a span key and a response key, "" for none) that
// arrived together and returns what the store must answer.
func (m *dedupModel) commit(calls [][2]string, arrival, window int64, maxEntries int) CommitResult {
	var res CommitResult
	cutoff := arrival - window
	m.commits++
	var added []modelRecord
	for _, c := range calls {
		stale := []int{}
		repeat := false
		for i, key := range c {
			if key == "" {
				continue
			}
			if at := m.find(key); at >= 0 {
				if m.records[at].arrival >= cutoff {
					repeat = true
					if i == 1 {
						res.ResponseDuplicates++
					}
					break
				}
				stale = append(stale, at)
			}
		}
		if repeat {
			res.Duplicates++
			continue
		}
		res.Counted++
		for _, at := range stale {
			m.records[at].live = false
		}
		for _, key := range c {
			if key != "" {
				added = append(added, modelRecord{key: key, arrival: arrival, commit: m.commits, live: true})
			}
		}
	}
	// The new records go where their arrival puts them, after the records
	// of the same arrival committed earlier.
	at := len(m.records)
	for at > 0 && m.records[at-1].arrival > arrival {
		at--
	}
	m.records = slices.Insert(m.records, at, added...)

	// Expiry, then the bound, oldest first, looking at no more records
	// than the budget of one commit.
	budget := max(m.trimFloor, 2*int64(len(added)))
	for len(m.records) > 0 && budget > 0 {
		budget--
		r := m.records[0]
		over := maxEntries > 0 && m.live() > int64(maxEntries)
		if r.arrival >= cutoff && !over {
			break
		}
		if r.live {
			if r.arrival < cutoff {
				res.Expired++
			} else {
				res.Evicted++
			}
		}
		m.records = m.records[1:]
	}
	res.Recorded = m.live()
	return res
}

// FuzzDedupAgainstModel runs a sequence of commits, decoded from the input,
// against the file store and against dedupModel, and requires the same
// answer to every commit, and the index to match the log after it
// (requireIndexMatchesLog). The store's fingerprints take 4 values, in the
// bits of the index's tag, so that nearly every lookup meets keys that
// share a fingerprint; between commits
// the file is sometimes reopened, so that the index is rebuilt from the log.
//
// Each input byte pair is one commit. The first byte: the low 3 bits pick
// one of 8 span ids and bits 3–4 one of 4 response ids (0 for none) of the
// first call; bit 5 adds a second call with the next span id and no
// response; bit 6 reopens the file first; bit 7 sets the bound to 3 keys
// for this commit, with a single call. The second byte moves the arrival
// forward by 0 to 255 seconds; the window is 300 seconds.
func FuzzDedupAgainstModel(f *testing.F) {
	f.Add([]byte{0x00, 0, 0x00, 10, 0x08, 0, 0x09, 200, 0x01, 200})
	f.Add([]byte{0x21, 1, 0x81, 0, 0x82, 1, 0x83, 2, 0x84, 3, 0xc1, 4})
	f.Add([]byte{0x18, 0, 0x19, 0, 0x5a, 255, 0x18, 255, 0x19, 100})
	f.Fuzz(func(t *testing.T, ops []byte) {
		// 48 commits are enough to expire, bound and reopen several times
		// over; longer inputs only slow the search down.
		if len(ops) > 96 {
			ops = ops[:96]
		}
		path := filepath.Join(fastTempDir(t), "ledger.db")
		// A trim of at most 2 records, or twice the keys added, per commit
		// falls behind whenever a commit adds fewer keys than expire.
		const trimFloor = 2
		opts := openOptions{lockTimeout: time.Second, noSync: true, trimFloor: trimFloor,
			fingerprint: func(key []byte) uint64 { return uint64(key[len(key)-1]&3+1) << 24 }}
		s, err := openFileStore(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.close() }()

		model := dedupModel{trimFloor: trimFloor}
		const window = 300 * int64(time.Second)
		arrival := time.Date(2026, time.November, 10, 9, 0, 0, 0, time.UTC).UnixNano()
		row := Key{Org: "acme", Connection: "c", Month: "2026-11", Model: "m"}
		for i := 0; i+1 < len(ops); i += 2 {
			op, step := ops[i], ops[i+1]
			arrival += int64(step) * int64(time.Second)
			if op&0x40 != 0 {
				if err := s.close(); err != nil {
					t.Fatal(err)
				}
				if s, err = openFileStore(path, opts); err != nil {
					t.Fatal(err)
				}
			}
			maxEntries := 0
			spans := []byte{op & 7}
			responses := []byte{op >> 3 & 3}
			if op&0x80 != 0 {
				maxEntries = 3
			} else if op&0x20 != 0 {
				spans, responses = append(spans, (op+1)&7), append(responses, 0)
			}

			b := NewBatch()
			b.SetDedup(Dedup{Arrival: time.Unix(0, arrival), Window: time.Duration(window), MaxEntries: maxEntries})
			var calls [][2]string
			for j, n := range spans {
				sk := SpanKey{Trace: [16]byte{1}, Span: [8]byte{7: n + 1}}
				call := SpanCall{Key: row, Counters: Counters{Requests: 1}}
				var response string
				if r := responses[j]; r != 0 {
					call.Response = NewResponseKey(sk.Trace, string('a'+rune(r)))
					response = string(appendResponseRecord(nil, call.Response))
				}
				b.AddSpan(sk, call)
				calls = append(calls, [2]string{string(appendSpanRecord(nil, sk)), response})
			}
			got, err := s.commit(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if want := model.commit(calls, arrival, window, maxEntries); got != want {
				t.Fatalf("commit %d (op %#02x, +%d s): store answered %+v, the contract says %+v", i/2, op, step, got, want)
			}
			requireIndexMatchesLog(t, s)
		}
	})
}

// fastTempDir returns a new directory in memory (/dev/shm) where there is
// one, so that each fuzz input can have a file of its own, or else
// t.TempDir().
func fastTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "ledger-fuzz-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
