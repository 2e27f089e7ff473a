package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/usage"
)

// candidate is a span of one batch that is a call by its own attributes.
type candidate struct {
	spanRef
	kind usage.CallKind
	fam  families
	// duplicate is set when another span of the batch records the same
	// call closer to the wire.
	duplicate bool
	// blocked and filtered are set when a guardrail span of the batch
	// blocked the call before or after the model ran.
	blocked  bool
	filtered bool
	// responseID is the span's response id once responseRead says it was
	// read, with the attributes that made the span a call.
	responseID   string
	responseRead bool
}

// guard is a guardrail span of the batch that blocked a request.
type guard struct {
	spanRef
	input  bool
	linked bool
}

// batch collects the calls and guardrail blocks of one ptrace.Traces. It
// is reused from a pool, so a batch without calls allocates nothing.
type batch struct {
	calls  []candidate
	guards []guard
	// bySpan and byParent index calls by span id and by parent span id;
	// they are filled only when the batch needs them.
	bySpan   map[pcommon.SpanID]int
	byParent map[pcommon.SpanID][]int
	// byResponse indexes the calls that count by trace and response id.
	byResponse map[responseKey]int

	// resource holds the identity values of the resource of the call
	// counted last, which the calls after it usually share.
	resource     resourceValues
	resourceOf   ptrace.ResourceSpans
	resourceRead bool
	// identities holds, per target, the identity of the calls of that
	// resource whose spans hold no identity key.
	identities []resourceIdentity

	// attrs holds the attributes of the call being derived.
	attrs spanAttrs
	// provider remembers the provider name normalized last, prices the
	// last prices looked up.
	provider providerMemo
	prices   priceMemo
	// logCalls says each counted call is logged at debug level.
	logCalls bool
	// conditionErrors counts the user's conditions that failed to evaluate
	// on the batch's calls.
	conditionErrors conditionErrors
	// now is when the batch was seen: the instant a call whose span has
	// no plausible end is priced at.
	now time.Time
}

var batchPool = sync.Pool{New: func() any { return &batch{} }}

func getBatch() *batch { return batchPool.Get().(*batch) }

// release empties b, dropping its references to the batch's spans, and
// returns it to the pool.
func (b *batch) release() {
	clear(b.calls)
	b.calls = b.calls[:0]
	clear(b.guards)
	b.guards = b.guards[:0]
	clear(b.bySpan)
	clear(b.byParent)
	clear(b.byResponse)
	b.resourceOf, b.resourceRead = ptrace.ResourceSpans{}, false
	clear(b.identities)
	b.identities = b.identities[:0]
	b.attrs = spanAttrs{}
	b.provider = providerMemo{}
	b.prices = priceMemo{}
	b.logCalls = false
	b.conditionErrors = conditionErrors{}
	batchPool.Put(b)
}

// family groups the kinds of call that two instrumentations may record for
// one request: a model call under another model call is the same call, a
// model call under a tool call is not.
func family(k usage.CallKind) usage.CallKind {
	switch k {
	case usage.CallEmbedding:
		return usage.CallModel
	case usage.CallMCP:
		return usage.CallTool
	}
	return k
}

// link finds, within the batch, the spans that repeat a call and the calls
// a guardrail blocked.
//
// A call span whose child in the same batch is a call of the same family
// (model and embedding; tool and MCP; remote agent) is a wrapper around
// that call, recorded by a framework or gateway instrumentation around the
// provider SDK's own span: only the innermost span counts, with its own
// identity and usage.
//
// Two calls of the same trace with the same response id (a gateway's span
// and the client's, exported together) are one call: the first in the
// request counts. Spans of one call in different requests are recognized by
// the ledger, which records the response id with the counts.
//
// A guardrail span that blocked is linked to the call that is its parent
// or its sibling (same parent): a guard on the input blocks it, a guard on
// the output filters it (the model ran and is billed).
func (b *batch) link() {
	// Calls are looked up by span id, as the parent of another call or of
	// a guardrail span; a request of calls none of which has a parent, and
	// no guardrail span, needs no lookup.
	if len(b.guards) > 0 || len(b.calls) > 1 && b.anyParent() {
		if b.bySpan == nil {
			b.bySpan = make(map[pcommon.SpanID]int, len(b.calls))
		}
		for i := range b.calls {
			if id := b.calls[i].span.SpanID(); !id.IsEmpty() {
				b.bySpan[id] = i
			}
		}
	}
	if len(b.calls) > 1 {
		for i := range b.calls {
			c := &b.calls[i]
			parent := c.span.ParentSpanID()
			if parent.IsEmpty() {
				continue
			}
			j, ok := b.bySpan[parent]
			if !ok || j == i {
				continue
			}
			if parent := &b.calls[j]; family(parent.kind) == family(c.kind) &&
				parent.span.TraceID() == c.span.TraceID() {
				parent.duplicate = true
			}
		}
		b.linkResponses()
	}
	if len(b.guards) == 0 {
		return
	}
	if b.byParent == nil {
		b.byParent = make(map[pcommon.SpanID][]int, len(b.calls))
	}
	for i := range b.calls {
		if parent := b.calls[i].span.ParentSpanID(); !parent.IsEmpty() {
			b.byParent[parent] = append(b.byParent[parent], i)
		}
	}
	for g := range b.guards {
		gd := &b.guards[g]
		related := func(i int) {
			c := &b.calls[i]
			if c.duplicate || c.span.TraceID() != gd.span.TraceID() {
				return
			}
			gd.linked = true
			if gd.input {
				c.blocked = true
			} else {
				c.filtered = true
			}
		}
		parent := gd.span.ParentSpanID()
		if parent.IsEmpty() {
			continue
		}
		if i, ok := b.bySpan[parent]; ok {
			related(i)
		}
		for _, i := range b.byParent[parent] {
			related(i)
		}
	}
}

// anyParent reports whether a call of the batch has a parent span.
func (b *batch) anyParent() bool {
	for i := range b.calls {
		if !b.calls[i].span.ParentSpanID().IsEmpty() {
			return true
		}
	}
	return false
}

// responseKey names one provider response within one trace.
type responseKey struct {
	trace pcommon.TraceID
	id    string
}

// responseID returns the provider's id of the response a call span of
// families fam records, or "".
func responseID(attrs pcommon.Map, fam families) string {
	if fam&famGenAI != 0 {
		if id := str(attrs, attrResponseID); id != "" {
			return id
		}
	}
	if fam&famVercel != 0 {
		return str(attrs, attrAIResponseID)
	}
	return ""
}

// linkResponses marks as duplicate every call that repeats the trace and
// response id of a call before it in the batch that counts.
func (b *batch) linkResponses() {
	if b.byResponse == nil {
		b.byResponse = make(map[responseKey]int, len(b.calls))
	}
	for i := range b.calls {
		c := &b.calls[i]
		if c.duplicate {
			continue
		}
		id := c.responseID
		if id == "" {
			continue
		}
		key := responseKey{trace: c.span.TraceID(), id: id}
		if _, seen := b.byResponse[key]; seen {
			c.duplicate = true
			continue
		}
		b.byResponse[key] = i
	}
}

// families says which dialects' attribute namespaces a span uses, from
// one pass over its attribute keys; it spares the spans of other kinds
// (HTTP, database) every further lookup, and the dialect readers the
// lookups of names a span cannot have.
type families uint16

const (
	famGenAI         families = 1 << iota // gen_ai.*
	famAggregated                         // gen_ai.aggregated_usage.*
	famGuardrail                          // gen_ai.guardrail.*, litellm.guardrail.*, rail.*
	famMCP                                // mcp.*
	famOpenInference                      // openinference.*
	famVercel                             // ai.*
	famLLM                                // llm.* (OpenInference, OpenLLMetry)
	famTraceloop                          // traceloop.*
	famLiteLLM                            // litellm.*
	famOpenAI                             // openai.*, gen_ai.openai.* (service tier)
	famUsageLedger                        // usageledger.* (written by this processor)
)

// usageNamespace begins the name of every attribute this processor writes
// of its own (see package usage).
const usageNamespace = "usageledger."

// attributeFamilies returns the families of attrs' keys; none but
// famUsageLedger means the span is no GenAI span in any dialect the
// processor reads. It does not allocate.
func attributeFamilies(attrs pcommon.Map) families {
	var f families
	for key := range attrs.All() {
		if len(key) < 3 {
			continue
		}
		switch key[0] {
		case 'g':
			if !strings.HasPrefix(key, "gen_ai.") {
				continue
			}
			f |= famGenAI
			// The byte after gen_ai. spares most gen_ai.* keys the
			// comparisons with the longer prefixes.
			rest := key[len("gen_ai."):]
			if rest == "" {
				continue
			}
			switch rest[0] {
			case 'a':
				if strings.HasPrefix(rest, "aggregated_usage.") {
					f |= famAggregated
				}
			case 'g':
				if strings.HasPrefix(rest, "guardrail.") {
					f |= famGuardrail
				}
			case 'o':
				if strings.HasPrefix(rest, "openai.") {
					f |= famOpenAI
				}
			}
		case 'm':
			if strings.HasPrefix(key, "mcp.") {
				f |= famMCP
			}
		case 'o':
			switch {
			case strings.HasPrefix(key, "openinference."):
				f |= famOpenInference
			case strings.HasPrefix(key, "openai."):
				f |= famOpenAI
			}
		case 'a':
			if strings.HasPrefix(key, "ai.") {
				f |= famVercel
			}
		case 'l':
			switch {
			case strings.HasPrefix(key, "llm."):
				f |= famLLM
			case strings.HasPrefix(key, "litellm."):
				f |= famLiteLLM
				if strings.HasPrefix(key, "litellm.guardrail.") {
					f |= famGuardrail
				}
			}
		case 't':
			if strings.HasPrefix(key, "traceloop.") {
				f |= famTraceloop
			}
		case 'r':
			if strings.HasPrefix(key, "rail.") {
				f |= famGuardrail
			}
		case 'u':
			if strings.HasPrefix(key, usageNamespace) {
				f |= famUsageLedger
			}
		}
	}
	return f
}
