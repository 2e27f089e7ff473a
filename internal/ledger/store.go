package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"context"
	"errors"
	"io"
)

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("ledger is closed")

// Store keeps the ledger durable. Implementations are safe for concurrent use
// by several goroutines: one component may read while another commits.
//
// Commit adds increments rather than writing totals, so several writers
// (collector replicas sharing one database) can commit to the same rows; a
// SQL store maps it to one transaction of INSERT … ON CONFLICT DO UPDATE
// statements that add the counters, keep the earliest first-seen and the
// latest last-seen, and apply [ConnectionInfo.Merge] to connections; the
// span and response keys are an INSERT … ON CONFLICT DO NOTHING into a table
// of recorded keys in the same transaction, whose returned rows are the
// calls to count, and so are the zones.
type Store interface {
	// Commit adds every row of b to the ledger and records its connections,
	// all or nothing. A keyed call of b counts unless its [SpanKey], or its
	// [ResponseKey] when it has one, was recorded within the window of
	// [Batch.Dedup]; the keys of a call that counts are recorded in the same
	// transaction, so a failed commit records nothing and a successful one
	// cannot be counted again, by the same span or by another span of the
	// same response. Both kinds of key share the window and
	// [Dedup.MaxEntries]; a duplicate records nothing, so the first call
	// committed keeps its identity. When Commit returns nil the
	// batch is durable; when it returns an error nothing of the batch was
	// applied. A row whose month is not "YYYY-MM" fails the commit. When
	// ctx ends before the batch is taken into a transaction, Commit returns
	// ctx's error; once taken, the commit runs to its end whatever ctx does.
	Commit(ctx context.Context, b *Batch) (CommitResult, error)

	// Rows returns the rows of the given months, each once and in no
	// particular order. A month that is not "YYYY-MM" fails the read.
	Rows(ctx context.Context, months []string) ([]Row, error)

	// Connections returns every connection recorded, in no particular order.
	Connections(ctx context.Context) ([]Connection, error)

	// ConnectionsOf returns the recorded connections among ids, each once
	// and in no particular order; an id not recorded is left out. It reads
	// only those connections, however many the ledger holds.
	ConnectionsOf(ctx context.Context, ids []ConnectionID) ([]Connection, error)

	// Zones returns the time zone recorded first for each organization in
	// the given months ([Batch.SetZone]), by organization and month. A
	// month that is not "YYYY-MM" fails the read.
	Zones(ctx context.Context, months []string) (map[OrgMonth]string, error)

	// Close releases the store. Calls after Close return [ErrClosed]; a second
	// Close returns nil.
	Close() error
}

// Backuper is a store that can copy itself while it runs.
type Backuper interface {
	// Backup writes a consistent copy of the ledger and returns the number
	// of bytes written. It calls start once with the size of the copy and
	// writes the copy to the writer start returns. Commits go on meanwhile.
	Backup(ctx context.Context, start func(size int64) io.Writer) (int64, error)
}
