package ledger_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	s, err := ledger.Open(path)
	require.NoError(t, err)
	for round := 1; round <= 20; round++ {
		_, err := s.Commit(context.Background(), bulk(round, 50))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(256<<10), "the file must span many pages")

	// Whole, it opens and reads back every call.
	s, err = ledger.Open(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(20*50), totalRequests(t, s))
	require.NoError(t, s.Close())

	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, size := range []int64{info.Size() / 2, 16384} {
		require.NoError(t, os.WriteFile(path, whole[:size], 0o600))
		_, err = ledger.Open(path)
		require.Error(t, err, "size %d", size)
		assert.ErrorContains(t, err, `ledger file "`+path+`" is `)
		assert.ErrorContains(t, err, "the file was cut short; restore it from a backup")
	}
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
	whole := filepath.Join(dir, "whole.db")
	s, err := ledger.Open(whole)
	require.NoError(t, err)
	for round := 1; round <= 20; round++ {
		_, err := s.Commit(context.Background(), bulk(round, 50))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	pristine, err := os.ReadFile(whole)
	require.NoError(t, err)
	const pageSize = 4096
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
		require.NoError(t, s.Close())
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
