//go:build unix

package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped tells the kernel that the process no longer needs the pages
// of the ledger file it has mapped, after a read that walked many of them:
// rebuilding the dedup index at open, the months of rows of a scrape, every
// connection. bbolt reads the file through a memory map, so every page
// such a read touches stays in the process's resident memory, and the
// kernel maps the cached pages around each one touched as well
// (fault-around), which for a file of years is most of the file. The pages
// stay in the page cache; a later read maps them again from there, without
// reading the disk.
//
// bbolt writes the file with write calls, never through the map, so the
// mapped pages are never dirty and nothing is lost.
func releaseMapped(db *bolt.DB) {
	_ = view(db, func(tx *bolt.Tx) error {
		releaseMappedIn(tx)
		return nil
	})
}

// releaseMappedIn is releaseMapped inside the read transaction tx, for a
// long read to let go of the pages it has walked so far. The transaction
// holds bbolt's lock on the map, so the map cannot move or shrink while
// the pages are released, and what tx reads afterwards is mapped again.
func releaseMappedIn(tx *bolt.Tx) {
	size := tx.Size()
	if size == 0 || tx.Writable() {
		return
	}
	// A read transaction's keys point into the map: the first bucket name
	// gives a pointer into it, and the map's start is found from there by
	// its offset.
	name, _ := tx.Cursor().First()
	if len(name) == 0 {
		return
	}
	inside := unsafe.Pointer(unsafe.SliceData(name))
	offset := int64(uintptr(inside) - tx.DB().Info().Data)
	if offset < 0 || offset >= size {
		return // not in the map after all: leave it be
	}
	mapped := unsafe.Slice((*byte)(unsafe.Add(inside, -offset)), size)
	// An error leaves the pages resident, which is only memory.
	_ = unix.Madvise(mapped, unix.MADV_DONTNEED)
}
