package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// tally is what one ptrace.Traces adds to the ledger.
type tally struct {
	batch     *ledger.Batch
	calls     int64 // counted spans
	malformed int64 // counted spans with an unreadable attribute
	atArrival int64 // counted spans booked at arrival for want of a plausible end time
	future    int64 // of those, spans dated beyond the future skew
	// overflowed counts the spans booked to an overflow organization,
	// connection or model, by the limit that sent them there.
	overflowed map[string]int64
	// Counted spans td itself holds twice: the same span, or another span
	// of the same response.
	repeatedSpans     int64
	repeatedResponses int64
}

// repeated returns the counted spans of td not added to its batch.
func (t *tally) repeated() int64 {
	return t.repeatedSpans + t.repeatedResponses
}

// counter turns spans into a batch: the calendar decides the month, the
// guard the organization and connection a call is booked to.
type counter struct {
	calendar ledgerCalendar
	guard    *guard
	dedup    DedupConfig
}

// countTraces adds every counted span of td to a new batch. Spans without
// the counted marker are skipped; a counted span is always counted, reading
// an attribute of the wrong type as absent.
func (cn *counter) countTraces(td ptrace.Traces, arrival time.Time) tally {
	t := tally{batch: ledger.NewBatch(), overflowed: make(map[string]int64)}
	t.batch.SetDedup(ledger.Dedup{Arrival: arrival, Window: cn.dedup.Window, MaxEntries: cn.dedup.MaxEntries})
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				span := spans.At(k)
				counted, ok := span.Attributes().Get(usage.AttrCounted)
				if !ok || counted.Type() != pcommon.ValueTypeBool || !counted.Bool() {
					continue
				}
				t.calls++
				if !cn.add(&t, span, arrival) {
					t.malformed++
				}
			}
		}
	}
	return t
}

// add books one counted span and reports whether all its attributes were
// readable.
func (cn *counter) add(t *tally, span ptrace.Span, arrival time.Time) bool {
	r := attrReader{m: span.Attributes(), ok: true}
	at, booked := cn.calendar.bookingTime(span.EndTimestamp(), arrival)
	switch booked {
	case bookedFuture:
		t.future++
		t.atArrival++
	case bookedUndated:
		t.atArrival++
	}
	seen := at.UnixNano()

	c := ledger.Counters{
		Requests:         1,
		InputTokens:      r.count(usage.AttrInputTokens),
		OutputTokens:     r.count(usage.AttrOutputTokens),
		CacheReadTokens:  r.count(usage.AttrCacheReadTokens),
		CacheWriteTokens: r.count(usage.AttrCacheWriteTokens),
		ReasoningTokens:  r.count(usage.AttrReasoningTokens),
		Cost:             ledger.PicoUSD(r.count(usage.AttrCostPicoUSD)),
		Filtered:         r.flag(usage.AttrFiltered),
		Unpriced:         r.flag(usage.AttrUnpriced),
		UsageMissing:     r.flag(usage.AttrUsageMissing),
		FirstSeen:        seen,
		LastSeen:         seen,
	}
	switch outcome, known := usage.ParseOutcome(r.str(usage.AttrOutcome)); {
	case !known:
		r.ok = false // counted as a request with no outcome of its own
	case outcome == usage.OutcomeBlocked:
		c.Blocked = 1
	case outcome == usage.OutcomeRateLimited:
		c.RateLimited = 1
	case outcome == usage.OutcomeError:
		c.Errors = 1
	}
	c = c.Scale(r.adjustedCount(span))

	b := cn.guard.admit(realName(r.bounded(usage.AttrOrg)), realName(r.bounded(usage.AttrConnection)),
		realName(r.bounded(usage.AttrModel)))
	if b.limit != "" {
		t.overflowed[b.limit]++
	}
	org, conn := b.org, b.conn
	key := ledger.Key{Org: org, Connection: conn, Month: cn.calendar.Month(org, at), Model: b.model}
	t.batch.SetZone(org, key.Month, cn.calendar.ZoneOf(org).String())
	info := ledger.CallInfo(r.bounded(usage.AttrTeam), r.bounded(usage.AttrCostCenter), seen)

	spanKey := ledger.SpanKey{Trace: span.TraceID(), Span: span.SpanID()}
	if spanKey.IsZero() {
		// No ids to recognize a repeat by: it always counts.
		t.batch.Add(key, c)
		t.batch.SetConnection(ledger.ConnectionID{Org: org, Connection: conn}, info)
		return r.ok
	}
	response := ledger.NewResponseKey(spanKey.Trace, r.str(usage.AttrResponseID))
	switch t.batch.AddSpan(spanKey, ledger.SpanCall{Key: key, Counters: c, Info: info, Response: response}) {
	case ledger.RepeatedSpan:
		t.repeatedSpans++
	case ledger.RepeatedResponse:
		t.repeatedResponses++
	}
	return r.ok
}

// attrReader reads typed attributes, noting any value of the wrong type.
type attrReader struct {
	m  pcommon.Map
	ok bool
}

// str returns a string attribute, or "" when absent or not a string.
func (r *attrReader) str(key string) string {
	v, found := r.m.Get(key)
	if !found {
		return ""
	}
	if v.Type() != pcommon.ValueTypeStr {
		r.ok = false
		return ""
	}
	return v.Str()
}

// bounded returns a string attribute as [usage.BoundedValue] bounds it,
// noting a value too long for a ledger key: the processor bounds the names
// it writes, so a longer one was written by something else.
func (r *attrReader) bounded(key string) string {
	s := r.str(key)
	if b := usage.BoundedValue(s); len(b) != len(s) {
		r.ok = false
		return b
	}
	return s
}

// count returns a non-negative int attribute, or 0 when absent, not an int
// or negative.
func (r *attrReader) count(key string) uint64 {
	v, found := r.m.Get(key)
	if !found {
		return 0
	}
	if v.Type() != pcommon.ValueTypeInt || v.Int() < 0 {
		r.ok = false
		return 0
	}
	return uint64(v.Int())
}

// maxAdjustedCount bounds the calls one sampled span may stand for: a
// sampling probability below one in a billion is taken as damage.
const maxAdjustedCount = 1e9

// adjustedCount returns the number of calls a sampled span stands for: the
// adjusted count attribute when it is a number from 1 to 1e9, else 1. A
// fractional count such as 1.5 (sampling at 2 in 3) becomes 1 or 2, chosen
// from the span's ids so that the choice is the same on every delivery and
// the expected total is exact: 2 with probability 0.5.
func (r *attrReader) adjustedCount(span ptrace.Span) uint64 {
	v, found := r.m.Get(usage.AttrAdjustedCount)
	if !found {
		return 1
	}
	var n float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = float64(v.Int())
	case pcommon.ValueTypeDouble:
		n = v.Double()
	default:
		r.ok = false
		return 1
	}
	if !(n >= 1 && n <= maxAdjustedCount) { // also false for NaN
		r.ok = false
		return 1
	}
	whole := math.Floor(n)
	if frac := n - whole; frac > 0 && spanFraction(span) < frac {
		whole++
	}
	return uint64(whole)
}

// spanFraction maps the span's ids to a number in [0, 1), uniform over
// random ids: an FNV-1a hash of the 24 id bytes, then a final mix so that
// ids differing in one byte spread over the whole range.
func spanFraction(span ptrace.Span) float64 {
	tid, sid := span.TraceID(), span.SpanID()
	h := uint64(14695981039346656037)
	for _, b := range append(tid[:], sid[:]...) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return float64(h>>11) / (1 << 53)
}

// flag returns 1 for a true bool attribute and 0 otherwise.
func (r *attrReader) flag(key string) uint64 {
	v, found := r.m.Get(key)
	if !found {
		return 0
	}
	if v.Type() != pcommon.ValueTypeBool {
		r.ok = false
		return 0
	}
	if v.Bool() {
		return 1
	}
	return 0
}
