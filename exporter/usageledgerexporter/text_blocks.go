package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import "strings"

// textBlocks builds strings in large shared blocks, so that the label sets
// of a scrape of millions of series cost one allocation per block instead
// of one per label set. A block is only ever appended to, never rewritten,
// so every string handed out keeps its bytes; a block lives as long as any
// string cut from it.
type textBlocks struct {
	block strings.Builder
	// size is the capacity of each new block; a string longer than that gets
	// a block of its own length.
	size int
}

// join returns parts, one after another, as one string.
func (t *textBlocks) join(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if t.block.Cap()-t.block.Len() < n {
		t.block = strings.Builder{}
		t.block.Grow(max(n, t.size))
	}
	start := t.block.Len()
	for _, p := range parts {
		t.block.WriteString(p)
	}
	return t.block.String()[start:]
}
