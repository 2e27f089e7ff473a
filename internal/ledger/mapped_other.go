//go:build !unix

package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"os"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped does nothing where the kernel has no madvise; see
// mapped_unix.go.
func releaseMapped(*bolt.DB) {}

func releaseMappedIn(*bolt.Tx) {}

// lockedByAnother cannot tell here; the checks of an open then run on a
// file another process may be writing.
func lockedByAnother(*os.File) bool { return false }
