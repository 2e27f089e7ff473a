package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"errors"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// errDamaged is the error of an open, read or commit that met a page of the
// file that bbolt cannot make sense of, most likely zeroed or overwritten
// by a disk or file-system fault or by another program. bbolt panics on
// such a page, or reads past its map. The ledger turns either into this
// error, so that a damaged file is reported by name while the rest of the
// collector runs on, instead of crashing it and every pipeline with it.
//
// bbolt keeps no checksums of its pages, so damage that still reads as a
// plausible page goes unseen: a read may then miss rows without an error.
// And a page number overwritten so that a page points back to itself makes
// bbolt recurse until the stack runs out, which no recover catches, or
// loop: that damage still crashes or stalls the process.
var errDamaged = errors.New("the file is damaged; restore it from a backup taken before the damage")

// recoverDamage, deferred, turns a panic inside bbolt into an error
// wrapping errDamaged. As the panic unwinds, bbolt rolls its transaction
// back, which leaves the file as its last commit wrote it.
func recoverDamage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w (bbolt: %v)", errDamaged, r)
	}
}

// view is db.View with a damaged page reported as an error.
func view(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverDamage(&err)
	return db.View(fn)
}

// update is db.Update with a damaged page reported as an error. After such
// an error bbolt may hold its writer lock for good (its rollback can meet
// the damage again), so the caller must not start another write
// transaction or close the database.
func update(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverDamage(&err)
	return db.Update(fn)
}

// openBolt is bolt.Open with a damaged page reported as an error.
func openBolt(path string, options *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverDamage(&err)
	return bolt.Open(path, 0o600, options)
}
