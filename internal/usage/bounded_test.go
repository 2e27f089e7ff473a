package usage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A name of tens of kilobytes (a client bug, an attack) once made the ledger
// refuse its whole request: bbolt keys stop at 32 KiB.
func TestBoundedValue(t *testing.T) {
	f := func(in string, wantLen int, wantPrefix string) {
		t.Helper()
		got := BoundedValue(in)
		assert.Len(t, got, wantLen)
		assert.True(t, strings.HasPrefix(got, wantPrefix), "%q does not start with %q", got, wantPrefix)
	}

	// Up to 256 bytes a value is kept whole, even with bytes that are not
	// UTF-8: that is the reader's to decide.
	f(strings.Repeat("a", 256), 256, strings.Repeat("a", 256))
	f("bad\xff", 4, "bad\xff")
	// Longer: the first 236 bytes, "…" (3 bytes) and 16 hex digits: 255 bytes.
	f(strings.Repeat("a", 257), 255, strings.Repeat("a", 236)+"…")
	f(strings.Repeat("A", 40_000), 255, strings.Repeat("A", 236)+"…")
	// "é" is 2 bytes: 118 of them fill 236 bytes exactly.
	f(strings.Repeat("é", 200), 255, strings.Repeat("é", 118)+"…")
	// "€" is 3 bytes: 78 fill 234 bytes, and byte 236 would split the 79th.
	f(strings.Repeat("€", 200), 234+3+16, strings.Repeat("€", 78)+"…")
	// A run of bytes that are not UTF-8 becomes one U+FFFD (3 bytes), which
	// may bring a value under the bound.
	f(strings.Repeat("\xff", 300), 3, "\uFFFD")
	// "a\xff" 150 times is 300 bytes, "a\uFFFD" 150 times 600: 59 of those
	// 4-byte pairs fill 236 bytes exactly.
	f(strings.Repeat("a\xff", 150), 255, strings.Repeat("a\uFFFD", 59)+"…")
}

func TestBoundedValuesStayApart(t *testing.T) {
	base := strings.Repeat("x", 300)
	a, b := BoundedValue(base+"a"), BoundedValue(base+"b")
	require.NotEqual(t, a, b, "two names differing past the cut must not merge")
	assert.Equal(t, a, BoundedValue(base+"a"), "the shortened form is stable")
}

func TestShortValuesDoNotAllocate(t *testing.T) {
	s := strings.Repeat("support-bot", 10)
	allocs := testing.AllocsPerRun(100, func() { _ = BoundedValue(s) })
	assert.Zero(t, allocs)
}
