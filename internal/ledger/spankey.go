package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// SpanKey names one span for dedup: its trace id and span id, as OTLP
// carries them.
type SpanKey struct {
	Trace [16]byte
	Span  [8]byte
}

// IsZero reports whether either id is all zeros, which OTLP calls invalid:
// such a span cannot be told apart from another and is never deduplicated.
func (s SpanKey) IsZero() bool {
	return s.Trace == [16]byte{} || s.Span == [8]byte{}
}

// String returns the ids in hex, trace id first.
func (s SpanKey) String() string {
	return fmt.Sprintf("%s/%s", hex.EncodeToString(s.Trace[:]), hex.EncodeToString(s.Span[:]))
}

// ResponseKey names one provider response within one trace: the trace id
// and the first 16 bytes of the SHA-256 of the response id as the provider
// reported it (gen_ai.response.id). Two spans of one call (a gateway's span
// and the client's, a wrapper and the provider SDK's span exported apart)
// have different span ids but the same ResponseKey.
//
// Two different response ids share a key only if their truncated hashes
// collide within the same trace: for a trace of n responses that chance is
// about n² / 2¹²⁹, below 10⁻³⁰ for a trace of a million calls.
type ResponseKey struct {
	Trace    [16]byte
	Response [16]byte
}

// NewResponseKey returns the key of response id in trace, or the zero key
// when id is empty or the trace id is all zeros: such a call is known by its
// span key alone.
func NewResponseKey(trace [16]byte, id string) ResponseKey {
	if id == "" || trace == [16]byte{} {
		return ResponseKey{}
	}
	sum := sha256.Sum256([]byte(id))
	k := ResponseKey{Trace: trace}
	copy(k.Response[:], sum[:])
	return k
}

// IsZero reports whether k names no response.
func (k ResponseKey) IsZero() bool {
	return k == ResponseKey{}
}

// String returns the trace id and the response hash in hex.
func (k ResponseKey) String() string {
	return fmt.Sprintf("%s/response:%s", hex.EncodeToString(k.Trace[:]), hex.EncodeToString(k.Response[:]))
}

// Repeat says which key shows a call to be one already counted.
type Repeat uint8

const (
	// NotRepeated is a call counted for the first time.
	NotRepeated Repeat = iota
	// RepeatedSpan is a span delivered again: the same trace id and span id.
	RepeatedSpan
	// RepeatedResponse is another span of a call already counted: a new
	// span id, but the same trace id and response id.
	RepeatedResponse
)

// CommitResult is what a commit did besides adding counters.
type CommitResult struct {
	// Counted is the number of keyed calls counted; Duplicates the number
	// not counted because their span key or response key was recorded
	// within the window. ResponseDuplicates is the part of Duplicates whose
	// span key was new but whose response key was recorded.
	Counted            int64
	Duplicates         int64
	ResponseDuplicates int64
	// Expired is the number of recorded keys removed because their window
	// ended; Evicted the number removed earlier than that to stay within
	// [Dedup.MaxEntries].
	Expired int64
	Evicted int64
	// Recorded is the number of keys, span and response keys together,
	// recorded after the commit.
	Recorded int64
}
