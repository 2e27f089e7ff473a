//go:build unix

package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockedByAnother reports whether another open of the file holds bbolt's
// lock on it. When it does not, f takes a shared lock, which keeps any
// writer out until f is closed.
func lockedByAnother(f *os.File) bool {
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) != nil
}
