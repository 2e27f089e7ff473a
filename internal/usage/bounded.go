package usage // import "github.com/usageledger/usageledger/internal/usage"

import (
	"encoding/hex"
	"hash/fnv"
	"strings"
	"unicode/utf8"
)

// MaxValueBytes bounds an identity value or model name. Longer ones keep
// their first shortenedPrefixBytes and get a hash of the whole value, so two
// long names stay apart while the ledger key and the label stay small: a
// name of any length can neither fail a commit (bbolt keys stop at 32 KiB)
// nor flood a scrape.
const (
	MaxValueBytes        = 256
	shortenedPrefixBytes = 236
)

// BoundedValue returns s when it is at most MaxValueBytes long, and
// otherwise its bounded form: invalid UTF-8 bytes become U+FFFD, and a value
// still too long is cut to its first bytes (at a character boundary), "…"
// and 16 hex digits of the FNV-1a hash of the whole value, 255 bytes at
// most. The processor and the exporter both apply it, so a name shortened
// by either is the same. It allocates only when s is too long.
func BoundedValue(s string) string {
	if len(s) <= MaxValueBytes {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxValueBytes {
		return s
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	cut := shortenedPrefixBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…" + hex.EncodeToString(h.Sum(nil))
}
