package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
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
}

// countTraces adds every counted span of td to a new batch. Spans without
// the counted marker are skipped; a counted span is always counted, reading
// an attribute of the wrong type as absent.
func countTraces(td ptrace.Traces, cal calendar, arrival time.Time) tally {
	t := tally{batch: ledger.NewBatch()}
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
				if !t.add(span, cal, arrival) {
					t.malformed++
				}
			}
		}
	}
	return t
}

// add books one counted span and reports whether all its attributes were
// readable.
func (t *tally) add(span ptrace.Span, cal calendar, arrival time.Time) bool {
	r := attrReader{m: span.Attributes(), ok: true}
	at, atArrival := cal.bookingTime(span.EndTimestamp(), arrival)
	if atArrival {
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

	id := ledger.ConnectionID{Org: r.str(usage.AttrOrg), Connection: r.str(usage.AttrConnection)}
	t.batch.Add(ledger.Key{
		Org:        id.Org,
		Connection: id.Connection,
		Month:      cal.month(at),
		Model:      r.str(usage.AttrModel),
	}, c)
	t.batch.SetConnection(id, ledger.ConnectionInfo{
		Team:       r.str(usage.AttrTeam),
		CostCenter: r.str(usage.AttrCostCenter),
		LastSeen:   seen,
	})
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
