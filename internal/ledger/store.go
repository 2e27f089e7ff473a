package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"context"
	"errors"
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
// latest last-seen, and apply [ConnectionInfo.Merge] to connections.
type Store interface {
	// Commit adds every row of b to the ledger and records its connections,
	// all or nothing. When it returns nil the batch is durable; when it
	// returns an error nothing of the batch was applied. A row whose month is
	// not "YYYY-MM" fails the commit.
	Commit(ctx context.Context, b *Batch) error

	// Rows returns the rows of the given months, each once and in no
	// particular order. A month that is not "YYYY-MM" fails the read.
	Rows(ctx context.Context, months []string) ([]Row, error)

	// Connections returns every connection recorded, in no particular order.
	Connections(ctx context.Context) ([]Connection, error)

	// Close releases the store. Calls after Close return [ErrClosed]; a second
	// Close returns nil.
	Close() error
}
