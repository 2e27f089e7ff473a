package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"iter"
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

	// booked is the month the call counted last was booked to.
	booked bookedMonth
}

// bookedMonth is the month of one organization's calendar a call was
// booked to: the calls after it of the same organization and local month
// take its name, and its zone is recorded once.
type bookedMonth struct {
	org   string
	year  int
	month time.Month
	name  string
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

// spansOf yields every span of td, resource by resource and scope by scope.
func spansOf(td ptrace.Traces) iter.Seq[ptrace.Span] {
	return func(yield func(ptrace.Span) bool) {
		rss := td.ResourceSpans()
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				spans := sss.At(j).Spans()
				for k := range spans.Len() {
					if !yield(spans.At(k)) {
						return
					}
				}
			}
		}
	}
}

// isCounted reports whether span carries the processor's counted marker.
func isCounted(span ptrace.Span) bool {
	counted, ok := span.Attributes().Get(usage.AttrCounted)
	return ok && counted.Type() == pcommon.ValueTypeBool && counted.Bool()
}

// countTraces adds every counted span of td to a new batch. Spans without
// the counted marker are skipped; a counted span is always counted, reading
// an attribute of the wrong type as absent.
func (cn *counter) countTraces(td ptrace.Traces, arrival time.Time) tally {
	// Counting the marked spans first lets the batch be allocated once at
	// its size.
	n := 0
	for span := range spansOf(td) {
		if isCounted(span) {
			n++
		}
	}
	t := tally{batch: ledger.NewBatch(), overflowed: make(map[string]int64)}
	t.batch.GrowSpans(n)
	t.batch.SetDedup(ledger.Dedup{Arrival: arrival, Window: cn.dedup.Window, MaxEntries: cn.dedup.MaxEntries})
	for span := range spansOf(td) {
		if !isCounted(span) {
			continue
		}
		t.calls++
		var r attrReader
		r.read(span.Attributes())
		if !cn.add(&t, span, &r, arrival) {
			t.malformed++
		}
	}
	return t
}

// add books one counted span, whose attributes r holds, and reports
// whether all the attributes it read were readable.
func (cn *counter) add(t *tally, span ptrace.Span, r *attrReader, arrival time.Time) bool {
	at, booked := cn.calendar.bookingTime(span.EndTimestamp(), r.pricedAt(arrival.Add(max(cn.calendar.skew, usage.FutureSkew))), arrival)
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
		InputTokens:      r.count(callInputTokens),
		OutputTokens:     r.count(callOutputTokens),
		CacheReadTokens:  r.count(callCacheReadTokens),
		CacheWriteTokens: r.count(callCacheWriteTokens),
		ReasoningTokens:  r.count(callReasoningTokens),
		Cost:             ledger.PicoUSD(r.count(callCostPicoUSD)),
		Filtered:         r.flag(callFiltered),
		Unpriced:         r.flag(callUnpriced),
		UsageMissing:     r.flag(callUsageMissing),
		FirstSeen:        seen,
		LastSeen:         seen,
	}
	switch outcome, known := usage.ParseOutcome(r.str(callOutcome)); {
	case !known:
		r.bad = true // counted as a request with no outcome of its own
	case outcome == usage.OutcomeBlocked:
		c.Blocked = 1
	case outcome == usage.OutcomeRateLimited:
		c.RateLimited = 1
	case outcome == usage.OutcomeError:
		c.Errors = 1
	}
	c = c.Scale(r.adjustedCount(span))

	b := cn.guard.admit(realName(r.bounded(callOrg)), realName(r.bounded(callConnection)),
		realName(r.bounded(callModel)))
	if b.limit != "" {
		t.overflowed[b.limit]++
	}
	org, conn := b.org, b.conn
	key := ledger.Key{Org: org, Connection: conn, Month: cn.month(t, org, at), Model: b.model}
	info := ledger.CallInfo(r.bounded(callTeam), r.bounded(callCostCenter), seen)

	spanKey := ledger.SpanKey{Trace: span.TraceID(), Span: span.SpanID()}
	if spanKey.IsZero() {
		// No ids to recognize a repeat by: it always counts.
		t.batch.Add(key, c)
		t.batch.SetConnection(ledger.ConnectionID{Org: org, Connection: conn}, info)
		return !r.bad
	}
	response := ledger.NewResponseKey(spanKey.Trace, r.str(callResponseID))
	switch t.batch.AddSpan(spanKey, ledger.SpanCall{Key: key, Counters: c, Info: info, Response: response}) {
	case ledger.RepeatedSpan:
		t.repeatedSpans++
	case ledger.RepeatedResponse:
		t.repeatedResponses++
	}
	return !r.bad
}

// callAttr is one attribute of a counted span that add reads.
type callAttr uint8

const (
	callOrg callAttr = iota
	callConnection
	callModel
	callTeam
	callCostCenter
	callOutcome
	callResponseID
	callInputTokens
	callOutputTokens
	callCacheReadTokens
	callCacheWriteTokens
	callReasoningTokens
	callCostPicoUSD
	callPricedAt
	callFiltered
	callUnpriced
	callUsageMissing
	callAdjustedCount

	numCallAttrs
)

// callAttrKeys are the names of the attributes add reads.
var callAttrKeys = [numCallAttrs]string{
	callOrg:              usage.AttrOrg,
	callConnection:       usage.AttrConnection,
	callModel:            usage.AttrModel,
	callTeam:             usage.AttrTeam,
	callCostCenter:       usage.AttrCostCenter,
	callOutcome:          usage.AttrOutcome,
	callResponseID:       usage.AttrResponseID,
	callInputTokens:      usage.AttrInputTokens,
	callOutputTokens:     usage.AttrOutputTokens,
	callCacheReadTokens:  usage.AttrCacheReadTokens,
	callCacheWriteTokens: usage.AttrCacheWriteTokens,
	callReasoningTokens:  usage.AttrReasoningTokens,
	callCostPicoUSD:      usage.AttrCostPicoUSD,
	callPricedAt:         usage.AttrPricedAt,
	callFiltered:         usage.AttrFiltered,
	callUnpriced:         usage.AttrUnpriced,
	callUsageMissing:     usage.AttrUsageMissing,
	callAdjustedCount:    usage.AttrAdjustedCount,
}

// callAttrsByLen lists the attributes of callAttrKeys by the length of
// their names, at most two of each length: most other attributes of a
// span match no name's length, or differ from those that do in their
// first byte, and cost no comparison of strings.
var callAttrsByLen = func() [][]callAttr {
	var byLen [][]callAttr
	for a, key := range callAttrKeys {
		for len(byLen) <= len(key) {
			byLen = append(byLen, nil)
		}
		byLen[len(key)] = append(byLen[len(key)], callAttr(a))
	}
	return byLen
}()

// callAttrOf returns the attribute add reads under key, and false for a key
// it does not read.
func callAttrOf(key string) (callAttr, bool) {
	if len(key) >= len(callAttrsByLen) {
		return 0, false
	}
	for _, a := range callAttrsByLen[len(key)] {
		if name := callAttrKeys[a]; name[0] == key[0] && name == key {
			return a, true
		}
	}
	return 0, false
}

// month returns the calendar month of at for org, "YYYY-MM", and records
// the zone that cut it in t's batch the first time.
func (cn *counter) month(t *tally, org string, at time.Time) string {
	zone := cn.calendar.ZoneOf(org)
	year, month, _ := at.In(zone).Date()
	if m := &t.booked; m.name == "" || m.org != org || m.year != year || m.month != month {
		*m = bookedMonth{org: org, year: year, month: month, name: cn.calendar.Month(org, at)}
		t.batch.SetZone(org, m.name, zone.String())
	}
	return t.booked.name
}

// attrReader reads typed attributes of one span, noting any value of the
// wrong type. It holds the span's first value under each name it reads,
// the one [pcommon.Map.Get] returns, found in one pass over the span's
// attributes.
type attrReader struct {
	values [numCallAttrs]pcommon.Value
	found  [numCallAttrs]bool
	// bad is set once a value read was of the wrong type.
	bad bool
}

// read takes the attributes add reads from attrs, in one pass.
func (r *attrReader) read(attrs pcommon.Map) {
	for key, v := range attrs.All() {
		if a, ok := callAttrOf(key); ok && !r.found[a] {
			r.values[a], r.found[a] = v, true
		}
	}
}

// str returns a string attribute, or "" when absent or not a string.
func (r *attrReader) str(a callAttr) string {
	if !r.found[a] {
		return ""
	}
	v := r.values[a]
	if v.Type() != pcommon.ValueTypeStr {
		r.bad = true
		return ""
	}
	return v.Str()
}

// bounded returns a string attribute as [usage.BoundedValue] bounds it,
// noting a value too long for a ledger key: the processor bounds the names
// it writes, so a longer one was written by something else.
func (r *attrReader) bounded(a callAttr) string {
	s := r.str(a)
	if b := usage.BoundedValue(s); len(b) != len(s) {
		r.bad = true
		return b
	}
	return s
}

// count returns a non-negative int attribute, or 0 when absent, not an int
// or negative.
func (r *attrReader) count(a callAttr) uint64 {
	if !r.found[a] {
		return 0
	}
	v := r.values[a]
	if v.Type() != pcommon.ValueTypeInt || v.Int() < 0 {
		r.bad = true
		return 0
	}
	return uint64(v.Int())
}

// pricedAt returns the instant the processor priced the call at when that
// was not its end, or the zero time. A value that is not an int, or one
// before 2000, was not written by the processor: it is noted and the call
// is booked as if it had none. One later than latest comes from a
// processor whose clock runs ahead of this one's, and is set aside the
// same way but not noted: the call is booked by its end, as a call of
// such a clock is.
func (r *attrReader) pricedAt(latest time.Time) time.Time {
	if !r.found[callPricedAt] {
		return time.Time{}
	}
	v := r.values[callPricedAt]
	if v.Type() != pcommon.ValueTypeInt {
		r.bad = true
		return time.Time{}
	}
	t := time.Unix(0, v.Int())
	if t.Before(usage.EarliestCallTime) {
		r.bad = true
		return time.Time{}
	}
	if t.After(latest) {
		return time.Time{}
	}
	return t
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
	if !r.found[callAdjustedCount] {
		return 1
	}
	v := r.values[callAdjustedCount]
	var n float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = float64(v.Int())
	case pcommon.ValueTypeDouble:
		n = v.Double()
	default:
		r.bad = true
		return 1
	}
	if !(n >= 1 && n <= maxAdjustedCount) { // also false for NaN
		r.bad = true
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
func (r *attrReader) flag(a callAttr) uint64 {
	if !r.found[a] {
		return 0
	}
	v := r.values[a]
	if v.Type() != pcommon.ValueTypeBool {
		r.bad = true
		return 0
	}
	if v.Bool() {
		return 1
	}
	return 0
}
