package ledger

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A batch yields its keyed calls in the order they were added, with or
// without room made for them first, and refuses a span or response key it
// holds already.
func TestBatchSpansInOrder(t *testing.T) {
	for _, grow := range []int{0, 1, 3, 100} {
		b := NewBatch()
		b.GrowSpans(grow)
		key := func(n byte) SpanKey { return SpanKey{Trace: [16]byte{n}, Span: [8]byte{n}} }
		call := func(tokens uint64, response string) SpanCall {
			return SpanCall{Counters: Counters{InputTokens: tokens}, Response: NewResponseKey([16]byte{9}, response)}
		}
		assert.Equal(t, NotRepeated, b.AddSpan(key(3), call(3, "")))
		assert.Equal(t, NotRepeated, b.AddSpan(key(1), call(1, "r")))
		assert.Equal(t, RepeatedSpan, b.AddSpan(key(3), call(30, "")))
		assert.Equal(t, RepeatedResponse, b.AddSpan(key(4), call(4, "r")))
		assert.Equal(t, NotRepeated, b.AddSpan(key(2), call(2, "")))

		var keys []SpanKey
		var tokens []uint64
		for k, c := range b.Spans() {
			keys, tokens = append(keys, k), append(tokens, c.Counters.InputTokens)
		}
		assert.Equal(t, []SpanKey{key(3), key(1), key(2)}, keys, "grow %d", grow)
		assert.Equal(t, []uint64{3, 1, 2}, tokens, "grow %d", grow)
		assert.Equal(t, 3, b.Len(), "grow %d", grow)
	}
}
