package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
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

// CommitResult is what a commit did besides adding counters.
type CommitResult struct {
	// Counted is the number of keyed calls counted; Duplicates the number
	// not counted because their key was recorded within the window.
	Counted    int64
	Duplicates int64
	// Expired is the number of recorded keys removed because their window
	// ended; Evicted the number removed earlier than that to stay within
	// [Dedup.MaxEntries].
	Expired int64
	Evicted int64
	// Recorded is the number of keys recorded after the commit.
	Recorded int64
}
