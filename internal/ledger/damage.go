package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// errDamaged is the error of an open, read or commit that met a page of the
// file that bbolt cannot make sense of: zeroed or overwritten by a disk or
// file-system fault, or by another program. bbolt panics on such a page.
// The ledger turns the panic into this error, so that a damaged file is
// reported by name while the rest of the collector runs on, instead of
// crashing it and every pipeline with it.
var errDamaged = errors.New("the file is damaged; restore it from a backup")

// recoverDamage, deferred, turns a panic of bbolt into an error wrapping
// errDamaged. bbolt rolls its transaction back as the panic unwinds, so the
// file is left as its last commit wrote it.
func recoverDamage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w (bbolt: %v)", errDamaged, r)
	}
}

// view is db.View with a damaged page reported as an error.
func view(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(&err)
	return db.View(fn)
}

// update is db.Update with a damaged page reported as an error.
func update(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(&err)
	return db.Update(fn)
}

// openBolt is bolt.Open with a damaged page reported as an error.
func openBolt(path string, options *bolt.Options) (db *bolt.DB, err error) {
	defer recoverDamage(&err)
	return bolt.Open(path, 0o600, options)
}
