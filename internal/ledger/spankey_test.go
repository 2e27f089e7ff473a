package ledger

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewResponseKey(t *testing.T) {
	trace := [16]byte{0: 0xc0, 15: 1}
	f := func(trace [16]byte, id, wantHash string) {
		t.Helper()
		k := NewResponseKey(trace, id)
		if wantHash == "" {
			assert.True(t, k.IsZero(), "id %q", id)
			return
		}
		assert.Equal(t, trace, k.Trace)
		assert.Equal(t, wantHash, hex.EncodeToString(k.Response[:]))
		assert.Len(t, encodeResponseKey(k), responseKeySize)
	}
	// The first 16 bytes of SHA-256("chatcmpl-42"), from
	// `printf chatcmpl-42 | sha256sum`.
	f(trace, "chatcmpl-42", "dc646fa259b00e48456d528325c10bee")
	// No id, or no trace to scope it to: no key.
	f(trace, "", "")
	f([16]byte{}, "chatcmpl-42", "")
}

func TestArrivalKeyLengths(t *testing.T) {
	span := encodeSpanKey(SpanKey{Trace: [16]byte{1}, Span: [8]byte{2}})
	response := encodeResponseKey(NewResponseKey([16]byte{1}, "r"))
	for _, k := range [][]byte{span, response} {
		at, got, err := decodeArrivalKey(encodeArrivalKey(42, k))
		assert.NoError(t, err)
		assert.Equal(t, int64(42), at)
		assert.Equal(t, k, got)
	}
	// A key of neither length is damage.
	_, _, err := decodeArrivalKey(encodeArrivalKey(42, span[:20]))
	assert.ErrorIs(t, err, errCorrupt)
}
