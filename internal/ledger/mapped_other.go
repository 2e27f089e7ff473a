//go:build !unix

package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing where the kernel has no madvise; see
// mapped_unix.go.
func releaseMapped(*bolt.DB) {}

func releaseMappedIn(*bolt.Tx) {}
