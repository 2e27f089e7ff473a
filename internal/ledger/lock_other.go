//go:build !unix

package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import "os"

// lockedByAnother cannot tell here; the checks of an open then run on a
// file another process may be writing.
func lockedByAnother(*os.File) bool { return false }
