package textblocks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStringsKeepTheirBytes hands out strings across several blocks, one
// longer than a block, and checks each against its parts afterwards, so a
// block rewritten or reused would show.
func TestStringsKeepTheirBytes(t *testing.T) {
	b := New(16)
	var got, want []string
	for i, parts := range [][]string{
		{"org=", "acme"}, {"", ""}, {"connection=", "support-bot/openai"},
		{strings.Repeat("x", 40)}, {"a", "b", "c"}, {"model=", "gpt-4o"},
	} {
		got = append(got, b.Join(parts...))
		want = append(want, strings.Join(parts, ""))
		if i%2 == 0 {
			buf := []byte("copied-" + want[i])
			got = append(got, b.Copy(buf))
			want = append(want, string(buf))
			buf[0] = 'X' // the copy is not the caller's bytes
		}
	}
	assert.Equal(t, want, got)
}

// TestOneAllocationPerBlock checks what the blocks are for: label sets of
// a block's size in all take one allocation per block.
func TestOneAllocationPerBlock(t *testing.T) {
	b := New(1 << 10)
	allocs := testing.AllocsPerRun(100, func() {
		b = New(1 << 10)
		for range 16 { // 16 × 64 bytes: one block
			_ = b.Join(`org="`, "acme-corporation", `",connection="`, "support-bot/openai-0001", `"`)
		}
	})
	assert.Equal(t, 1.0, allocs)
}
