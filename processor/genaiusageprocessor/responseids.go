package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// responseKey names one provider response within one trace.
type responseKey struct {
	trace pcommon.TraceID
	id    string
}

// responseIDs remembers the response ids of counted calls for a while, so
// that a second span of the same call arriving in a later batch (a
// gateway's span and the client's, a wrapper exported after its child, an
// export retried by the client) is not counted again. It holds at most max
// ids, each for at most window; the oldest is forgotten first. It is safe
// for concurrent use.
type responseIDs struct {
	window time.Duration
	max    int

	mu   sync.Mutex
	seen map[responseKey]time.Time
	// order holds the keys oldest first, as a ring of len max.
	order []responseKey
	head  int
	n     int
}

// newResponseIDs returns nil, which remembers nothing, when window is 0.
func newResponseIDs(window time.Duration, maxIDs int) *responseIDs {
	if window <= 0 || maxIDs <= 0 {
		return nil
	}
	return &responseIDs{
		window: window,
		max:    maxIDs,
		seen:   make(map[responseKey]time.Time),
		order:  make([]responseKey, maxIDs),
	}
}

// firstSeen reports whether id had not been seen in trace within the
// window, and remembers it as seen at now. An empty id is always first.
func (r *responseIDs) firstSeen(trace pcommon.TraceID, id string, now time.Time) bool {
	if r == nil || id == "" {
		return true
	}
	key := responseKey{trace: trace, id: id}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	if at, ok := r.seen[key]; ok && now.Sub(at) < r.window {
		return false
	}
	if r.n == r.max {
		r.forgetOldest()
	}
	key.id = strings.Clone(id)
	r.seen[key] = now
	r.order[(r.head+r.n)%r.max] = key
	r.n++
	return true
}

// expire forgets the ids older than the window.
func (r *responseIDs) expire(now time.Time) {
	for r.n > 0 {
		at, ok := r.seen[r.order[r.head]]
		if ok && now.Sub(at) < r.window {
			return
		}
		r.forgetOldest()
	}
}

func (r *responseIDs) forgetOldest() {
	delete(r.seen, r.order[r.head])
	r.order[r.head] = responseKey{}
	r.head = (r.head + 1) % r.max
	r.n--
}

// len returns the number of ids remembered.
func (r *responseIDs) len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
