package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import "strings"

// stringBlocks copies bytes read from the file into large shared blocks and
// hands them out as strings, so that a read of many short names costs one
// allocation per block instead of one per name. A block is only ever
// appended to, never rewritten, so every string handed out keeps its bytes;
// a block lives as long as any string cut from it.
type stringBlocks struct {
	block strings.Builder
	// size is the capacity of each new block; a copy longer than that gets
	// a block of its own length.
	size int
}

// copy returns the bytes of parts, one after another, as one string.
func (s *stringBlocks) copy(parts ...[]byte) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if s.block.Cap()-s.block.Len() < n {
		s.block = strings.Builder{}
		s.block.Grow(max(n, s.size))
	}
	start := s.block.Len()
	for _, p := range parts {
		s.block.Write(p)
	}
	return s.block.String()[start:]
}
