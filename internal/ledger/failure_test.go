package ledger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

// smallDisk mounts a tmpfs of the given size at a new directory and returns
// it; the test is skipped where mounting is not allowed (not root, or no
// CAP_SYS_ADMIN). Running as root, file permissions stop no write, so a
// full or read-only file system is the only honest way to fail one.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full and read-only cases need root", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// bulk is a batch of n new rows of one request each, named by round, with
// one keyed call per row.
func bulk(round, n int) *ledger.Batch {
	b := ledger.NewBatch()
	b.SetDedup(ledger.Dedup{Arrival: time.Unix(int64(round), 0), Window: time.Hour})
	for i := range n {
		var s ledger.SpanKey
		s.Trace[0], s.Trace[1], s.Trace[2] = byte(round), byte(round>>8), byte(i)
		s.Span[0], s.Span[1] = byte(i), byte(i>>8)
		s.Trace[15], s.Span[7] = 1, 1
		b.AddSpan(s, ledger.SpanCall{
			Key: ledger.Key{
				Org: "acme", Connection: "bulk", Month: "2026-11",
				// A long model name fills pages fast.
				Model: string(rune('a'+round%26)) + string(make([]byte, 200)) + string(rune(i)) + string(rune(round)),
			},
			Counters: ledger.Counters{Requests: 1},
		})
	}
	return b
}

func totalRequests(t *testing.T, s ledger.Store) uint64 {
	t.Helper()
	rows, err := s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	var n uint64
	for _, r := range rows {
		n += r.Requests
	}
	return n
}

// bulkLedger writes 20 commits of 50 calls each (bulk) into a new ledger at
// path, closes it and returns the file's bytes: about 250 pages of rows,
// connections, dedup log and free list.
func bulkLedger(t *testing.T, path string) []byte {
	t.Helper()
	s, err := ledger.Open(path)
	require.NoError(t, err)
	for round := 1; round <= 20; round++ {
		_, err := s.Commit(context.Background(), bulk(round, 50))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	return file
}

func TestDiskFullFailsWholeCommits(t *testing.T) {
	dir := smallDisk(t, "2m")
	path := filepath.Join(dir, "ledger.db")
	s, err := ledger.Open(path)
	require.NoError(t, err)

	// Commit until the disk is full. Every commit either lands whole or
	// returns an error; none panics.
	var acked uint64
	var commitErr error
	for round := 1; round < 2000; round++ {
		if _, commitErr = s.Commit(context.Background(), bulk(round, 50)); commitErr != nil {
			break
		}
		acked += 50
	}
	require.Error(t, commitErr, "a 2 MiB disk must fill up")
	assert.ErrorIs(t, commitErr, syscall.ENOSPC)
	assert.ErrorContains(t, commitErr, `ledger file "`+path+`": commit:`)
	assert.Equal(t, acked, totalRequests(t, s), "the failed commit added nothing")

	// Reads go on, and so does the file after a restart.
	require.NoError(t, s.Close())
	s, err = ledger.Open(path)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, acked, totalRequests(t, s))
}

// TestReadOnlyFileFailsAtOpen opens a ledger on a read-only bind mount of
// a directory holding one. A file system cannot be remounted read-only while
// the store holds the file open for writing (the kernel answers "busy"), so
// a running store meets read-only only as failing writes, which
// TestDiskFullFailsWholeCommits covers; at open it is a clear error.
func TestReadOnlyFileFailsAtOpen(t *testing.T) {
	dir := smallDisk(t, "4m")
	path := filepath.Join(dir, "ledger.db")
	s, err := ledger.Open(path)
	require.NoError(t, err)
	_, err = s.Commit(context.Background(), bulk(1, 10))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	ro := t.TempDir()
	out, err := exec.Command("mount", "--bind", "-o", "ro", dir, ro).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { _ = exec.Command("umount", ro).Run() })

	_, err = ledger.Open(filepath.Join(ro, "ledger.db"))
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.EROFS)
	assert.ErrorContains(t, err, `ledger file "`+filepath.Join(ro, "ledger.db")+`"`)

	// The file itself is untouched.
	s, err = ledger.Open(path)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, uint64(10), totalRequests(t, s))
}

// TestTruncatedFileFailsAtOpen cuts a ledger of many commits short and
// opens it: a clear error naming the file, where bbolt alone faults reading
// the missing pages and crashes the process.
func TestTruncatedFileFailsAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	whole := bulkLedger(t, path)
	require.Greater(t, len(whole), 256<<10, "the file must span many pages")

	// Whole, it opens and reads back every call.
	s, err := ledger.Open(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(20*50), totalRequests(t, s))
	require.NoError(t, s.Close())

	for _, size := range []int64{int64(len(whole)) / 2, 16384} {
		require.NoError(t, os.WriteFile(path, whole[:size], 0o600))
		_, err = ledger.Open(path)
		require.Error(t, err, "size %d", size)
		assert.ErrorContains(t, err, `ledger file "`+path+`" is `)
		assert.ErrorContains(t, err, "the file was cut short; restore it from a backup")
	}
}

// A file that is no ledger, another program's or one whose two header
// pages were overwritten, is refused at open with what to do, and left as
// it was.
func TestForeignFileFailsAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	foreign := bytes.Repeat([]byte("SQLite format 3\x00"), 1024)
	require.NoError(t, os.WriteFile(path, foreign, 0o600))
	_, err := ledger.Open(path)
	assert.EqualError(t, err, `ledger file "`+path+`" is no usage ledger, or its header pages are `+
		`damaged; point path at the ledger file, or restore it from a backup taken before the `+
		`damage: invalid database`)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, foreign, after)
}

// TestDamagedPagesAreErrors zeroes each page of a ledger in turn, as a
// disk or file-system fault can, and checks that the damage comes out as an
// error that names the file, at open or in the read or commit that meets
// it: bbolt panics on such a page, which would otherwise crash the whole
// collector. A page whose damage no call reports must be one the ledger
// does not use: every call still reads back. The meta pages are left out:
// bbolt keeps two and, by design, falls back on the other one, which
// holds the commit before.
func TestDamagedPagesAreErrors(t *testing.T) {
	dir := t.TempDir()
	pristine := bulkLedger(t, filepath.Join(dir, "whole.db"))
	pages := len(pristine) / pageSize
	require.Greater(t, pages, 64)

	ctx := context.Background()
	var atOpen, later, unused int
	for page := 2; page < pages; page++ {
		path := filepath.Join(dir, fmt.Sprintf("page-%d.db", page))
		damaged := slices.Clone(pristine)
		clear(damaged[page*pageSize : (page+1)*pageSize])
		require.NoError(t, os.WriteFile(path, damaged, 0o600))

		reported := func(err error) bool {
			t.Helper()
			if err == nil {
				return false
			}
			require.ErrorContains(t, err, `ledger file "`+path+`"`, "page %d", page)
			return true
		}
		s, err := ledger.Open(path)
		if reported(err) {
			atOpen++
			// The failed open left the file neither open nor locked: once
			// restored, the same process opens it and reads every call.
			require.NoError(t, os.WriteFile(path, pristine, 0o600))
			s, err := ledger.Open(path, ledger.WithLockTimeout(100*time.Millisecond))
			require.NoError(t, err, "page %d", page)
			assert.Equal(t, uint64(20*50), totalRequests(t, s))
			require.NoError(t, s.Close())
			continue
		}
		rows, err := s.Rows(ctx, []string{"2026-11"})
		failed := reported(err)
		_, err = s.Connections(ctx)
		failed = reported(err) || failed
		_, err = s.Zones(ctx, []string{"2026-11"})
		failed = reported(err) || failed
		_, err = s.Commit(ctx, bulk(21, 50))
		failed = reported(err) || failed
		failed = reported(s.Close()) || failed
		if failed {
			later++
			continue
		}
		var requests uint64
		for _, r := range rows {
			requests += r.Requests
		}
		require.Equal(t, uint64(20*50), requests, "page %d was zeroed, and no call said so", page)
		unused++
	}
	t.Logf("of %d pages zeroed: %d reported at open, %d later, %d unused", pages-2, atOpen, later, unused)
	// Both kinds of page must have been met: those the open reads (the dedup
	// log, the free list) and those only a read or commit does (rows).
	assert.Positive(t, atOpen)
	assert.Positive(t, later)
}

// freelistPage returns the page of the free-page list that the newer of
// the two meta pages of file names.
func freelistPage(t *testing.T, file []byte) int {
	t.Helper()
	le := binary.LittleEndian
	meta := file[pageHeader:]
	if other := file[pageSize+pageHeader:]; le.Uint64(other[48:]) > le.Uint64(meta[48:]) {
		meta = other
	}
	return int(le.Uint64(meta[32:]))
}

// TestDamagedFreeListIsRefusedAtOpen damages the free-page list in ways its
// page header does not show: bbolt would trust them and, at the commit
// every open makes, loop over billions of pages or write the new list over
// a page in use. The open refuses each, and the file restored opens again.
func TestDamagedFreeListIsRefusedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	pristine := bulkLedger(t, path)
	le := binary.LittleEndian

	// Each damage is to the list at offset at, of count entries.
	damages := map[string]func(b []byte, at, count int){
		"spans past the end":  func(b []byte, at, _ int) { le.PutUint32(b[at+12:], 0xFFFFFFFF) },
		"count past the page": func(b []byte, at, _ int) { le.PutUint16(b[at+10:], 0xFFFE) },
		"a meta page listed":  func(b []byte, at, _ int) { le.PutUint64(b[at+pageHeader:], 1) },
		"a page past the end": func(b []byte, at, count int) {
			le.PutUint64(b[at+pageHeader+8*(count-1):], uint64(len(b)/pageSize))
		},
		"out of order": func(b []byte, at, count int) {
			le.PutUint64(b[at+pageHeader+8*(count-1):], le.Uint64(b[at+pageHeader:]))
			le.PutUint64(b[at+pageHeader:], uint64(len(b)/pageSize-1))
		},
	}
	// Each is made to the list of the newest meta page, and, with meta page
	// 0 zeroed, to the list of page 1, from which bbolt then opens the file.
	withoutMeta0 := slices.Clone(pristine)
	clear(withoutMeta0[:pageSize])
	for _, file := range []struct {
		name  string
		bytes []byte
	}{{"", pristine}, {", meta page 0 zeroed", withoutMeta0}} {
		at := freelistPage(t, file.bytes) * pageSize
		count := int(le.Uint16(file.bytes[at+10:]))
		require.Positive(t, count, "the test needs a free page in the list%s", file.name)
		for name, damage := range damages {
			name += file.name
			damaged := slices.Clone(file.bytes)
			damage(damaged, at, count)
			require.NoError(t, os.WriteFile(path, damaged, 0o600))
			_, err := ledger.Open(path)
			require.Error(t, err, name)
			assert.ErrorContains(t, err, `ledger file "`+path+`": the file is damaged`, name)
			assert.ErrorContains(t, err, "free-page list", name)

			require.NoError(t, os.WriteFile(path, pristine, 0o600))
			s, err := ledger.Open(path, ledger.WithLockTimeout(100*time.Millisecond))
			require.NoError(t, err, name)
			assert.Equal(t, uint64(20*50), totalRequests(t, s), name)
			require.NoError(t, s.Close())
		}
	}
	// A file whose list is whole opens without meta page 0, at the commit
	// before the last one.
	require.NoError(t, os.WriteFile(path, withoutMeta0, 0o600))
	s, err := ledger.Open(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(19*50), totalRequests(t, s))
	require.NoError(t, s.Close())
}

// TestCommitAfterADamagedCommitFailsAtOnce zeroes the free-page list of a
// ledger that is open, as a disk fault can. The next commit fails; bbolt
// may then hold its writer lock for good, so every commit after it fails
// at once instead of waiting forever, reads go on, and Close returns.
func TestCommitAfterADamagedCommitFailsAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := ledger.Open(path)
	require.NoError(t, err)
	ctx := context.Background()
	for round := 1; round <= 5; round++ {
		_, err := s.Commit(ctx, bulk(round, 50))
		require.NoError(t, err)
	}
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, pageSize), int64(freelistPage(t, file))*pageSize)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	within := func(what string, call func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still waits after 10 s", what)
			return nil
		}
	}
	var failed error
	for round := 6; round <= 8 && failed == nil; round++ {
		_, failed = s.Commit(ctx, bulk(round, 50))
	}
	require.Error(t, failed, "a commit over the zeroed list must fail")
	assert.ErrorContains(t, failed, "the file is damaged")
	for round := 9; round <= 10; round++ {
		err := within("a commit after the failed one", func() error {
			_, err := s.Commit(ctx, bulk(round, 50))
			return err
		})
		require.Error(t, err)
		assert.Equal(t, failed.Error(), err.Error(), "the later commits fail as the first did")
	}
	assert.GreaterOrEqual(t, totalRequests(t, s), uint64(5*50))
	err = within("Close", s.Close)
	assert.ErrorContains(t, err, "the file is damaged")

	// bbolt keeps the file locked to the end of the process; a second open
	// says why, rather than that another process holds the file.
	require.NoError(t, os.WriteFile(path, file, 0o600))
	err = within("a second open", func() error {
		_, err := ledger.Open(path)
		return err
	})
	assert.ErrorContains(t, err, "is still held by this process, after a commit met a damaged page")
}

// bbolt's page layout, as the damage tests read it: 4 KiB pages that start
// with a 16-byte header (page id, flags, element count, overflow), leaf
// pages flagged 0x02 whose elements are 16 bytes each (flags, key offset
// from the element, key size, value size).
const (
	pageSize        = 4096
	pageHeader      = 16
	leafFlag        = 0x02
	leafElementSize = 16
)

// leafPages yields the offset in file of every leaf page with at least min
// elements, and its element count.
func leafPages(file []byte, min int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		le := binary.LittleEndian
		for at := 2 * pageSize; at+pageSize <= len(file); at += pageSize {
			count := int(le.Uint16(file[at+10:]))
			if le.Uint16(file[at+8:]) == leafFlag && count >= min && !yield(at, count) {
				return
			}
		}
	}
}

// allocated returns the bytes the process allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestOverwrittenKeyLengthsAreErrors gives the first key of every leaf page
// in turn a length of 256 MiB, as an overwritten page can: bbolt then reads
// past the file's memory map, which is a fault that no recover catches
// unless the reading goroutine asks for faults to panic. Every call must
// come back, with an error naming the file where it read the page.
func TestOverwrittenKeyLengthsAreErrors(t *testing.T) {
	dir := t.TempDir()
	pristine := bulkLedger(t, filepath.Join(dir, "whole.db"))

	le := binary.LittleEndian
	ctx := context.Background()
	leaves, reported := 0, 0
	for at := range leafPages(pristine, 1) {
		page := at / pageSize
		leaves++
		damaged := slices.Clone(pristine)
		le.PutUint32(damaged[at+pageHeader+8:], 1<<28) // the first element's key size
		path := filepath.Join(dir, fmt.Sprintf("page-%d.db", page))
		require.NoError(t, os.WriteFile(path, damaged, 0o600))

		var errs []error
		s, err := ledger.Open(path)
		errs = append(errs, err)
		if err == nil {
			_, err = s.Rows(ctx, []string{"2026-11"})
			errs = append(errs, err)
			_, err = s.Connections(ctx)
			errs = append(errs, err)
			_, err = s.Commit(ctx, bulk(21, 50))
			errs = append(errs, err, s.Close())
		}
		if err := errors.Join(errs...); err != nil {
			reported++
			assert.ErrorContains(t, err, `ledger file "`+path+`"`, "page %d", page)
		}
	}
	t.Logf("%d of %d leaf pages reported", reported, leaves)
	require.Greater(t, leaves, 10)
	assert.Positive(t, reported)

	// With every key of a page given 1.75 GiB, a read that summed their
	// lengths before copying them would ask for gigabytes: more than many
	// machines have, and running out of memory is no panic either. No read
	// may allocate more than the rows it returns.
	for at, n := range leafPages(pristine, 2) {
		page := at / pageSize
		damaged := slices.Clone(pristine)
		for i := range n {
			le.PutUint32(damaged[at+pageHeader+leafElementSize*i+8:], 0x70000000) // the key size
		}
		path := filepath.Join(dir, fmt.Sprintf("keys-%d.db", page))
		require.NoError(t, os.WriteFile(path, damaged, 0o600))
		s, err := ledger.Open(path)
		if err != nil {
			continue
		}
		var err2 error
		used := allocated(func() {
			_, err = s.Rows(ctx, []string{"2026-11"})
			_, err2 = s.Connections(ctx)
		})
		_ = s.Close()
		require.Less(t, used, uint64(64<<20), "page %d (%v, %v)", page, err, err2)
	}
}

// TestOverwrittenRecordLengthsAreErrors gives every record of a leaf page
// of a ledger of many connections a length of 1.75 GiB in turn: a read that
// copied the labels of such a record would ask for gigabytes. No read may
// allocate more than the connections it returns.
func TestOverwrittenRecordLengthsAreErrors(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.db")
	s, err := ledger.Open(whole)
	require.NoError(t, err)
	ctx := context.Background()
	var ids []ledger.ConnectionID
	b := ledger.NewBatch()
	for i := range 500 {
		// Long names spread the connections over many pages.
		id := ledger.ConnectionID{Org: "acme", Connection: fmt.Sprintf("agent-%03d-%0100d/openai", i, 0)}
		ids = append(ids, id)
		var k ledger.SpanKey
		k.Trace[0], k.Trace[1], k.Trace[15], k.Span[7] = byte(i), byte(i>>8), 1, 1
		b.AddSpan(k, ledger.SpanCall{
			Key:      ledger.Key{Org: id.Org, Connection: id.Connection, Month: "2026-11", Model: "gpt-4o"},
			Counters: ledger.Counters{Requests: 1},
			Info:     ledger.CallInfo("support", "cc-42", 1),
		})
	}
	_, err = s.Commit(ctx, b)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	pristine, err := os.ReadFile(whole)
	require.NoError(t, err)

	le := binary.LittleEndian
	pages := 0
	for at, n := range leafPages(pristine, 2) {
		pages++
		damaged := slices.Clone(pristine)
		for i := range n {
			le.PutUint32(damaged[at+pageHeader+leafElementSize*i+12:], 0x70000000) // the value size
		}
		path := filepath.Join(dir, fmt.Sprintf("page-%d.db", at/pageSize))
		require.NoError(t, os.WriteFile(path, damaged, 0o600))
		s, err := ledger.Open(path)
		if err != nil {
			continue
		}
		var err2, err3 error
		used := allocated(func() {
			_, err = s.Connections(ctx)
			_, err2 = s.ConnectionsOf(ctx, ids)
			_, err3 = s.Rows(ctx, []string{"2026-11"})
		})
		_ = s.Close()
		require.Less(t, used, uint64(64<<20), "page %d (%v, %v, %v)", at/pageSize, err, err2, err3)
	}
	require.Greater(t, pages, 5)
}

// TestZeroedKeysAreErrors zeroes the last element of every leaf page in
// turn, as a zeroed sector does: its key reads as empty, which sorts before
// every key of the ledger. A scan that took it for the end of its range
// would leave every later row out without a word; every read must instead
// report the damage or return every call. (An element zeroed before the
// first key of a range, on the page where the range begins, can still
// hide the keys before it: bbolt's binary search for the range's start
// steps over them.)
func TestZeroedKeysAreErrors(t *testing.T) {
	dir := t.TempDir()
	pristine := bulkLedger(t, filepath.Join(dir, "whole.db"))
	le := binary.LittleEndian
	ctx := context.Background()
	pages, reported := 0, 0
	for at, count := range leafPages(pristine, 2) {
		page := at / pageSize
		pages++
		damaged := slices.Clone(pristine)
		last := at + pageHeader + leafElementSize*(count-1)
		clear(damaged[last : last+leafElementSize])
		path := filepath.Join(dir, fmt.Sprintf("page-%d.db", page))
		require.NoError(t, os.WriteFile(path, damaged, 0o600))

		s, err := ledger.Open(path)
		if err != nil {
			reported++
			continue
		}
		rows, err := s.Rows(ctx, []string{"2026-11"})
		_ = s.Close()
		if err != nil {
			reported++
			assert.ErrorContains(t, err, "the file is damaged", "page %d", page)
			continue
		}
		var requests uint64
		for _, r := range rows {
			requests += r.Requests
		}
		require.Equal(t, uint64(20*50), requests, "page %d: an element zeroed, and no read said so", page)
	}
	t.Logf("%d of %d leaf pages reported", reported, pages)
	require.Greater(t, pages, 10)

	// A key of the month whose first byte after the month is overwritten
	// with 0 sorts before the keys around it: a scan meets it out of order.
	month := []byte("2026-11")
	outOfOrder := 0
	for at, count := range leafPages(pristine, 3) {
		page := at / pageSize
		middle := at + pageHeader + leafElementSize*(count/2)
		key := middle + int(le.Uint32(pristine[middle+4:]))
		if !bytes.HasPrefix(pristine[key:], month) || pristine[key+len(month)] == 0 {
			continue // not a row, or already 0
		}
		damaged := slices.Clone(pristine)
		damaged[key+len(month)] = 0
		path := filepath.Join(dir, fmt.Sprintf("order-%d.db", page))
		require.NoError(t, os.WriteFile(path, damaged, 0o600))
		s, err := ledger.Open(path)
		require.NoError(t, err)
		rows, err := s.Rows(ctx, []string{"2026-11"})
		_ = s.Close()
		if err == nil { // a page no longer in use
			var requests uint64
			for _, r := range rows {
				requests += r.Requests
			}
			require.Equal(t, uint64(20*50), requests, "page %d: a key out of order, and no read said so", page)
			continue
		}
		assert.ErrorContains(t, err, "keys out of order", "page %d", page)
		outOfOrder++
	}
	require.Positive(t, outOfOrder)
}
