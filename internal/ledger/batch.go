package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import "iter"

// Batch collects the counters of many calls in memory so that they reach a
// store in one commit. A Batch is not safe for concurrent use.
type Batch struct {
	rows        map[Key]Counters
	connections map[ConnectionID]ConnectionInfo
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	return &Batch{
		rows:        make(map[Key]Counters),
		connections: make(map[ConnectionID]ConnectionInfo),
	}
}

// Add adds c to the row k.
func (b *Batch) Add(k Key, c Counters) {
	sum := b.rows[k]
	sum.Add(c)
	b.rows[k] = sum
}

// SetConnection records info for a connection, keeping the info of the later
// call as [ConnectionInfo.Merge] does.
func (b *Batch) SetConnection(id ConnectionID, info ConnectionInfo) {
	if old, ok := b.connections[id]; ok {
		info = old.Merge(info)
	}
	b.connections[id] = info
}

// Len returns the number of rows in b.
func (b *Batch) Len() int {
	return len(b.rows)
}

// Empty reports whether b holds neither rows nor connections.
func (b *Batch) Empty() bool {
	return len(b.rows) == 0 && len(b.connections) == 0
}

// Rows yields every row of b in no particular order.
func (b *Batch) Rows() iter.Seq2[Key, Counters] {
	return func(yield func(Key, Counters) bool) {
		for k, c := range b.rows {
			if !yield(k, c) {
				return
			}
		}
	}
}

// Connections yields every connection of b in no particular order.
func (b *Batch) Connections() iter.Seq2[ConnectionID, ConnectionInfo] {
	return func(yield func(ConnectionID, ConnectionInfo) bool) {
		for id, info := range b.connections {
			if !yield(id, info) {
				return
			}
		}
	}
}
