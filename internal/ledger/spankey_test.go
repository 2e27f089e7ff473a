package ledger

import (
	"encoding/binary"
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
		assert.Len(t, appendResponseRecord(nil, k), 1+responseKeySize)
	}
	// The first 16 bytes of SHA-256("chatcmpl-42"), from
	// `printf chatcmpl-42 | sha256sum`.
	f(trace, "chatcmpl-42", "dc646fa259b00e48456d528325c10bee")
	// No id, or no trace to scope it to: no key.
	f(trace, "", "")
	f([16]byte{}, "chatcmpl-42", "")
}

// TestLogRecords writes a span record and a response record, byte by byte
// as encoding.go describes them, and reads them back.
func TestLogRecords(t *testing.T) {
	span := appendSpanRecord(nil, SpanKey{Trace: [16]byte{0: 1}, Span: [8]byte{7: 2}})
	response := appendResponseRecord(nil, ResponseKey{Trace: [16]byte{0: 1}, Response: [16]byte{15: 3}})
	assert.Equal(t, append(append([]byte{1, 1}, make([]byte, 15+7)...), 2), span)
	assert.Equal(t, append(append([]byte{2, 1}, make([]byte, 15+15)...), 3), response)

	var got [][]byte
	err := eachLogRecord(append(span, response...), func(k []byte) error {
		got = append(got, k)
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, [][]byte{span, response}, got)

	// A cut record and an unknown tag are damage.
	for _, bad := range [][]byte{span[:20], append([]byte{3}, span[1:]...)} {
		assert.ErrorIs(t, eachLogRecord(bad, func([]byte) error { return nil }), errCorrupt)
	}
	at, seq, err := decodeLogKey(encodeLogKey(42, 7))
	assert.NoError(t, err)
	assert.Equal(t, int64(42), at)
	assert.Equal(t, uint64(7), seq)
	_, _, err = decodeLogKey(make([]byte, 15))
	assert.ErrorIs(t, err, errCorrupt)
}

// uvarintLen must agree with encoding/binary on every length boundary.
func TestUvarintLen(t *testing.T) {
	for _, n := range []uint64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<21 - 1, 1 << 21, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		assert.Equal(t, len(binary.AppendUvarint(nil, n)), uvarintLen(n), "n = %d", n)
	}
}
