package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"iter"
	"slices"
	"time"
)

// Batch collects the counters of many calls in memory so that they reach a
// store in one commit. A Batch is not safe for concurrent use.
//
// A call with a [SpanKey] is added with [Batch.AddSpan]: the store counts it
// only if neither its span key nor its [ResponseKey] (when it has one) is
// recorded yet within the dedup window, and records both in the same
// transaction as the counters. A call without a usable key is added with
// [Batch.Add] and [Batch.SetConnection] and always counts.
type Batch struct {
	rows        map[Key]Counters
	connections map[ConnectionID]ConnectionInfo
	spans       []keyedCall // in the order added
	spanKeys    map[SpanKey]struct{}
	responses   map[ResponseKey]struct{}
	zones       map[OrgMonth]string
	dedup       Dedup
}

// OrgMonth names one calendar month of one organization.
type OrgMonth struct {
	Org   string
	Month string
}

// SpanCall is what one keyed call adds to the ledger.
type SpanCall struct {
	Key      Key
	Counters Counters
	Info     ConnectionInfo
	// Response names the provider response the call received; zero when
	// the span reports none.
	Response ResponseKey
}

// Dedup says how a commit treats the keys of its spans.
type Dedup struct {
	// Arrival is when the batch arrived; keys are recorded with it.
	Arrival time.Time
	// Window is how long a recorded key keeps a call with the same key from
	// counting again, measured between arrivals. Zero turns dedup off: keys
	// are neither checked nor recorded.
	Window time.Duration
	// MaxEntries bounds the recorded keys. Past it the oldest keys are
	// forgotten before their window ends, and a commit reports how many.
	// Zero means no bound.
	MaxEntries int
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	return &Batch{
		rows:        make(map[Key]Counters),
		connections: make(map[ConnectionID]ConnectionInfo),
		spanKeys:    make(map[SpanKey]struct{}),
		responses:   make(map[ResponseKey]struct{}),
		zones:       make(map[OrgMonth]string),
	}
}

// GrowSpans makes room for n more keyed calls, so that a batch built from
// one request of n spans allocates its room once.
func (b *Batch) GrowSpans(n int) {
	if n <= 0 {
		return
	}
	b.spans = slices.Grow(b.spans, n)
	if len(b.spanKeys) == 0 {
		b.spanKeys = make(map[SpanKey]struct{}, n)
	}
	if len(b.responses) == 0 {
		b.responses = make(map[ResponseKey]struct{}, n)
	}
}

// Add adds c to the row k.
func (b *Batch) Add(k Key, c Counters) {
	sum := b.rows[k]
	sum.Add(c)
	b.rows[k] = sum
}

// SetConnection records info for a connection, merged with info recorded
// earlier as [ConnectionInfo.Merge] does.
func (b *Batch) SetConnection(id ConnectionID, info ConnectionInfo) {
	if old, ok := b.connections[id]; ok {
		info = old.Merge(info)
	}
	b.connections[id] = info
}

// AddSpan adds the call of span s and returns [NotRepeated]. It adds
// nothing, and says why, when the batch holds s already ([RepeatedSpan]:
// the same span twice in one delivery) or another span with the same
// response key ([RepeatedResponse]: two spans of one call in one delivery);
// the span added first counts.
func (b *Batch) AddSpan(s SpanKey, call SpanCall) Repeat {
	if _, dup := b.spanKeys[s]; dup {
		return RepeatedSpan
	}
	if !call.Response.IsZero() {
		if _, dup := b.responses[call.Response]; dup {
			return RepeatedResponse
		}
		b.responses[call.Response] = struct{}{}
	}
	b.spanKeys[s] = struct{}{}
	b.spans = append(b.spans, keyedCall{s, call})
	return NotRepeated
}

// SetDedup sets how the commit of b treats span keys; without it dedup is
// off and every span counts.
func (b *Batch) SetDedup(d Dedup) {
	b.dedup = d
}

// SetZone records the IANA time zone whose calendar cut the month of an
// organization's calls. The store keeps the first zone recorded for each
// organization and month, so the bounds of a month already counted stay as
// they were when the zone changes later.
func (b *Batch) SetZone(org, month, zone string) {
	k := OrgMonth{Org: org, Month: month}
	if _, ok := b.zones[k]; !ok {
		b.zones[k] = zone
	}
}

// Zones yields every zone set with [Batch.SetZone], in no particular order.
func (b *Batch) Zones() iter.Seq2[OrgMonth, string] {
	return func(yield func(OrgMonth, string) bool) {
		for k, zone := range b.zones {
			if !yield(k, zone) {
				return
			}
		}
	}
}

// Len returns the number of rows and keyed calls in b.
func (b *Batch) Len() int {
	return len(b.rows) + len(b.spans)
}

// Empty reports whether b holds no rows, connections, keyed calls or zones.
func (b *Batch) Empty() bool {
	return len(b.rows) == 0 && len(b.connections) == 0 && len(b.spans) == 0 && len(b.zones) == 0
}

// Rows yields every row added with [Batch.Add], in no particular order.
func (b *Batch) Rows() iter.Seq2[Key, Counters] {
	return func(yield func(Key, Counters) bool) {
		for k, c := range b.rows {
			if !yield(k, c) {
				return
			}
		}
	}
}

// Connections yields every connection set with [Batch.SetConnection], in no
// particular order.
func (b *Batch) Connections() iter.Seq2[ConnectionID, ConnectionInfo] {
	return func(yield func(ConnectionID, ConnectionInfo) bool) {
		for id, info := range b.connections {
			if !yield(id, info) {
				return
			}
		}
	}
}

// Spans yields every keyed call, in the order they were added.
func (b *Batch) Spans() iter.Seq2[SpanKey, SpanCall] {
	return func(yield func(SpanKey, SpanCall) bool) {
		for _, c := range b.spans {
			if !yield(c.key, c.call) {
				return
			}
		}
	}
}

// Dedup returns how the commit of b treats span keys.
func (b *Batch) Dedup() Dedup {
	return b.dedup
}

type keyedCall struct {
	key  SpanKey
	call SpanCall
}
