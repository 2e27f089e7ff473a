// Package textblocks builds many short strings in large shared blocks, so
// that reading or writing millions of names and label sets costs one
// allocation per block instead of one per string.
package textblocks // import "github.com/usageledger/usageledger/internal/textblocks"

import "strings"

// Blocks hands out strings cut from large blocks. A block is only ever
// appended to, never rewritten, so every string handed out keeps its
// bytes; a block lives as long as any string cut from it. The zero value
// makes blocks of just the length asked for; use [New].
type Blocks struct {
	block strings.Builder
	// size is the capacity of each new block; a string longer than that
	// gets a block of its own length.
	size int
}

// New returns Blocks whose blocks hold size bytes.
func New(size int) Blocks {
	return Blocks{size: size}
}

// Join returns parts, one after another, as one string.
func (b *Blocks) Join(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	start := b.reserve(n)
	for _, p := range parts {
		b.block.WriteString(p)
	}
	return b.block.String()[start:]
}

// Copy returns the bytes of p as a string.
func (b *Blocks) Copy(p []byte) string {
	start := b.reserve(len(p))
	b.block.Write(p)
	return b.block.String()[start:]
}

// reserve makes room for n more bytes in the current block, starting a
// new one when they do not fit, and returns where they will start.
func (b *Blocks) reserve(n int) int {
	if b.block.Cap()-b.block.Len() < n {
		b.block = strings.Builder{}
		b.block.Grow(max(n, b.size))
	}
	return b.block.Len()
}
