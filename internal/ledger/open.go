package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Option changes how [Open] opens a file.
type Option func(*openOptions)

type openOptions struct {
	lockTimeout time.Duration
	noSync      bool
	// fingerprint replaces the dedup index's hash, so that tests can make
	// keys collide.
	fingerprint func(key []byte) uint64
	// trimFloor replaces minTrim, so that tests can leave trim behind with
	// a few keys.
	trimFloor int64
	logger    *zap.Logger
	// existing refuses a missing file rather than create it.
	existing bool
}

// ErrNoFile is the error of [Open] with [WithExistingFile] when the file
// does not exist.
var ErrNoFile = errors.New("no ledger file at this path")

// WithExistingFile makes Open refuse a file that does not exist, with
// [ErrNoFile], instead of creating a new ledger: for a reader, which has
// nothing to read where no exporter writes.
func WithExistingFile() Option {
	return func(o *openOptions) { o.existing = true }
}

// WithLockTimeout sets how long Open waits for another process to release the
// file; the default is one second.
func WithLockTimeout(d time.Duration) Option {
	return func(o *openOptions) { o.lockTimeout = d }
}

// WithoutSync makes commits return without waiting for the disk: a process
// crash loses nothing, but a power loss or kernel crash can lose commits
// already acknowledged. For measuring what durability costs, not for use.
func WithoutSync() Option {
	return func(o *openOptions) { o.noSync = true }
}

// WithLogger has Open log what opening the file did: an upgrade of its
// format, and how many dedup keys it read in how long.
func WithLogger(l *zap.Logger) Option {
	return func(o *openOptions) { o.logger = l }
}

// openFiles holds the files this process has open, by absolute path with its
// links resolved (and found by file identity under any other name), so
// that every component opening the same ledger shares one handle: the file
// is locked for one process, and a second bbolt handle in the same process
// would find it locked by the first. The mutex is held while a file opens,
// which waits at most the lock timeout.
var openFiles = openFileSet{byPath: make(map[string]*sharedFile), heldBroken: make(map[string]error)}

type openFileSet struct {
	sync.Mutex
	byPath map[string]*sharedFile
	// heldBroken holds, by path, the error of a file closed after a commit
	// met a damaged page: bbolt keeps it open and locked to the end of the
	// process (see fileStore.broken), so opening it again cannot succeed.
	heldBroken map[string]error
}

type sharedFile struct {
	store *fileStore
	users int
	// identity is the file's as it was opened, which still names it once
	// its path names another file or none (it was renamed or replaced).
	identity os.FileInfo
}

// sameAs returns the key of the open file that info, the result of a stat
// that returned err, describes, if one does.
func (o *openFileSet) sameAs(info os.FileInfo, err error) (string, bool) {
	if err != nil {
		return "", false
	}
	for key, f := range o.byPath {
		if f.identity != nil && os.SameFile(info, f.identity) {
			return key, true
		}
	}
	return "", false
}

// Open opens the ledger file at path, creating it and its directory if
// missing, and returns a handle to it. If this process already has the file
// open, Open returns a new handle to the same file and ignores opts; the file
// closes when the last handle is closed. A file locked by another process
// fails after the lock timeout.
func Open(path string, opts ...Option) (Store, error) {
	o := openOptions{lockTimeout: defaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ledger path %q: %w", path, err)
	}
	abs = resolveLinks(abs)

	openFiles.Lock()
	defer openFiles.Unlock()

	if err := openFiles.heldBroken[abs]; err != nil {
		return nil, fmt.Errorf("ledger file %q is still held by this process, after a commit met a damaged page; "+
			"restart the process to open it: %w", abs, err)
	}
	f, ok := openFiles.byPath[abs]
	if !ok {
		info, err := os.Stat(abs)
		if o.existing && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ledger file %q: %w", abs, ErrNoFile)
		}
		// A file open under another name that is no link to it (a hard
		// link, a bind mount) is still the same file.
		if key, same := openFiles.sameAs(info, err); same {
			abs, f = key, openFiles.byPath[key]
		} else {
			store, err := openFileStore(abs, o)
			if err != nil {
				return nil, err
			}
			// A link the path runs through can resolve only now, as when
			// it points at the file itself or at a directory opening
			// created.
			abs = resolveLinks(abs)
			f = &sharedFile{store: store}
			// The file is open and locked: the path names it now.
			if info, err := os.Stat(abs); err == nil {
				f.identity = info
			}
			openFiles.byPath[abs] = f
		}
	}
	f.users++
	return &fileHandle{path: abs, file: f}, nil
}

// resolveLinks returns path with its symbolic links resolved, so that two
// components naming one file by different paths share its handle: those of
// the longest part of path that exists, the rest joined on as it is. Once
// the file exists every link is resolved, so Open works the key out again
// after creating it.
func resolveLinks(path string) string {
	rest := ""
	for dir := path; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return path
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// fileHandle is one user's handle to a shared file.
type fileHandle struct {
	path   string
	file   *sharedFile
	closed atomic.Bool
}

func (h *fileHandle) Commit(ctx context.Context, b *Batch) (CommitResult, error) {
	if h.closed.Load() {
		return CommitResult{}, fmt.Errorf("ledger file %q: commit: %w", h.path, ErrClosed)
	}
	return h.file.store.commit(ctx, b)
}

func (h *fileHandle) Rows(ctx context.Context, months []string) ([]Row, error) {
	if h.closed.Load() {
		return nil, fmt.Errorf("ledger file %q: read rows: %w", h.path, ErrClosed)
	}
	return h.file.store.rows(ctx, months)
}

func (h *fileHandle) Connections(ctx context.Context) ([]Connection, error) {
	if h.closed.Load() {
		return nil, fmt.Errorf("ledger file %q: read connections: %w", h.path, ErrClosed)
	}
	return h.file.store.connections(ctx)
}

func (h *fileHandle) ConnectionsOf(ctx context.Context, ids []ConnectionID) ([]Connection, error) {
	if h.closed.Load() {
		return nil, fmt.Errorf("ledger file %q: read connections: %w", h.path, ErrClosed)
	}
	return h.file.store.connectionsOf(ctx, ids)
}

func (h *fileHandle) Zones(ctx context.Context, months []string) (map[OrgMonth]string, error) {
	if h.closed.Load() {
		return nil, fmt.Errorf("ledger file %q: read zones: %w", h.path, ErrClosed)
	}
	return h.file.store.zones(ctx, months)
}

// Backup writes a consistent copy of the whole file, taken in one read
// transaction while commits go on, and returns the number of bytes written.
// The copy opens with [Open] like the original.
func (h *fileHandle) Backup(ctx context.Context, start func(size int64) io.Writer) (int64, error) {
	if h.closed.Load() {
		return 0, fmt.Errorf("ledger file %q: backup: %w", h.path, ErrClosed)
	}
	return h.file.store.backup(ctx, start)
}

func (h *fileHandle) Close() error {
	if h.closed.Swap(true) {
		return nil
	}

	openFiles.Lock()
	defer openFiles.Unlock()

	h.file.users--
	if h.file.users > 0 {
		return nil
	}
	delete(openFiles.byPath, h.path)
	err := h.file.store.close()
	if h.file.store.broken != nil {
		openFiles.heldBroken[h.path] = h.file.store.broken
	}
	return err
}
