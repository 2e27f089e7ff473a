package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many commits share one transaction, which bounds the
// time the last of them waits for the first.
const maxGroup = 64

// commitRequest is one commit waiting for the loop.
type commitRequest struct {
	batch  *Batch
	result CommitResult
	err    error
	done   chan struct{}
}

// commit hands b to the commit loop and waits for its outcome. Once handed
// over, the commit is waited for even if ctx ends: returning early could
// report a failure for a batch that is on disk, and its retry would then
// lean on dedup alone.
func (s *fileStore) commit(ctx context.Context, b *Batch) (CommitResult, error) {
	if err := ctx.Err(); err != nil {
		return CommitResult{}, err
	}
	// A bad month fails this batch alone, before it can share a
	// transaction with others.
	if err := validateBatch(b); err != nil {
		return CommitResult{}, s.wrap("commit", err)
	}

	req := &commitRequest{batch: b, done: make(chan struct{})}
	select {
	case s.requests <- req:
	case <-s.stopped:
		return CommitResult{}, s.wrap("commit", ErrClosed)
	case <-ctx.Done():
		return CommitResult{}, ctx.Err()
	}
	<-req.done
	return req.result, s.wrap("commit", req.err)
}

// gatherGroups says commitLoop yields before it takes a group, as
// described there. A variable, so that a benchmark can measure the loop
// without it.
var gatherGroups = true

// maxYieldsSkipped bounds how many groups in a row commitLoop takes
// without yielding after yields that did not pay.
const maxYieldsSkipped = 64

// commitLoop runs commits until stop. Each turn takes every commit waiting at
// that moment (up to maxGroup) into one transaction and one sync, so the cost
// of the sync, and of writing every page the group's rows are on, is shared
// by the writers that arrived while the previous one ran.
//
// Once it holds the commits already waiting, the loop yields, so that the
// goroutines ready to run go first. On a saturated core those are mostly
// exports being received, processed and counted, which reach the queue and
// join this group rather than start the next: without the yield a writer's
// hand-over runs the loop at once, before the others can join. Eight
// writers on one core then commit in transactions two to five times
// larger, for 0.5 to 0.6 times the CPU per span (BenchmarkCommitGroups).
//
// A yield costs nothing on a core with time to spare, where nothing else is
// ready. On a core busy with other work it costs up to a time slice of each
// goroutine ready, more than the commits it gathers save. So, as a rule of
// thumb, a yield pays only if it brought commits and took less time than
// the last transaction did for each commit it brought. One that did not
// pay makes the loop skip the yields of the next groups, one, then two,
// four, up to maxYieldsSkipped, until a yield pays again: beside busy
// work, writers wait for it about once in that many groups. The first
// yield, with no transaction to go by, is not judged.
func (s *fileStore) commitLoop() {
	defer close(s.stopped)
	skip, unpaid := 0, 0
	var lastCommit time.Duration
	for {
		var first *commitRequest
		select {
		case first = <-s.requests:
		case <-s.stop:
			return
		}
		group := s.drain([]*commitRequest{first})
		switch {
		case !gatherGroups || len(group) == maxGroup:
		case skip > 0:
			skip--
		default:
			before, start := len(group), time.Now()
			runtime.Gosched()
			group = s.drain(group)
			switch joined := len(group) - before; {
			case lastCommit == 0:
			case joined > 0 && time.Since(start) < time.Duration(joined)*lastCommit:
				unpaid = 0
			default:
				skip = min(1<<unpaid, maxYieldsSkipped)
				if skip < maxYieldsSkipped {
					unpaid++
				}
			}
		}
		start := time.Now()
		s.commitGroup(group)
		lastCommit = time.Since(start)
	}
}

// drain adds to group the commits waiting now, up to maxGroup.
func (s *fileStore) drain(group []*commitRequest) []*commitRequest {
	for len(group) < maxGroup {
		select {
		case req := <-s.requests:
			group = append(group, req)
		default:
			return group
		}
	}
	return group
}

// commitGroup commits the group in one transaction. If that fails and the
// group holds more than one commit, each is tried alone, so that one batch
// cannot fail the others; a failed transaction applies nothing. Once a
// commit has met a damaged page, every commit fails as it did, without
// going to bbolt (see fileStore.broken).
func (s *fileStore) commitGroup(group []*commitRequest) {
	err := s.broken
	if err == nil {
		s.seen.begin()
		err = update(s.db, func(tx *bolt.Tx) error { return applyGroup(tx, s.seen, group) })
		if err != nil {
			s.seen.rollback()
		} else {
			s.seen.keep()
		}
		if errors.Is(err, errDamaged) {
			s.broken = err
		}
	}
	if err != nil && len(group) > 1 && s.broken == nil {
		for _, req := range group {
			s.commitGroup([]*commitRequest{req})
		}
		return
	}
	for _, req := range group {
		if err != nil {
			req.result = CommitResult{}
		}
		req.err = err
		close(req.done)
	}
}

// validateBatch checks what can be checked before a transaction.
func validateBatch(b *Batch) error {
	for k := range b.Rows() {
		if err := ValidateMonth(k.Month); err != nil {
			return fmt.Errorf("row month: %w", err)
		}
	}
	for _, call := range b.Spans() {
		if err := ValidateMonth(call.Key.Month); err != nil {
			return fmt.Errorf("row month: %w", err)
		}
	}
	for k := range b.Zones() {
		if err := ValidateMonth(k.Month); err != nil {
			return fmt.Errorf("zone month: %w", err)
		}
	}
	return nil
}

// applyGroup writes the commits of group in tx, recording their dedup keys
// in index as well. The rows and connections of all of them are summed
// first, so each row is read and written once.
func applyGroup(tx *bolt.Tx, index *seenIndex, group []*commitRequest) error {
	rows := make(map[Key]Counters)
	conns := make(map[ConnectionID]ConnectionInfo)
	seen := newSeenSet(tx, index)

	for _, req := range group {
		b := req.batch
		req.result = CommitResult{}
		for k, c := range b.Rows() {
			addRow(rows, k, c)
		}
		for id, info := range b.Connections() {
			addConnection(conns, id, info)
		}

		d := b.Dedup()
		if d.Window > 0 {
			if err := seen.begin(d); err != nil {
				return err
			}
			seen.warm(b)
		}
		for key, call := range b.Spans() {
			if d.Window > 0 && !key.IsZero() {
				repeat, err := seen.record(key, call.Response, d)
				if err != nil {
					return err
				}
				if repeat != NotRepeated {
					req.result.Duplicates++
					if repeat == RepeatedResponse {
						req.result.ResponseDuplicates++
					}
					continue
				}
			}
			req.result.Counted++
			addRow(rows, call.Key, call.Counters)
			addConnection(conns, ConnectionID{Org: call.Key.Org, Connection: call.Key.Connection}, call.Info)
		}
		if err := seen.end(); err != nil {
			return err
		}
	}

	if err := writeRows(tx, rows); err != nil {
		return err
	}
	if err := writeConnections(tx, conns); err != nil {
		return err
	}
	if err := writeZones(tx, group); err != nil {
		return err
	}

	last := &group[len(group)-1].result
	var err error
	if last.Expired, last.Evicted, err = seen.trim(group[len(group)-1].batch.Dedup()); err != nil {
		return err
	}
	for _, req := range group {
		req.result.Recorded = index.live
	}
	return nil
}

func addRow(rows map[Key]Counters, k Key, c Counters) {
	sum := rows[k]
	sum.Add(c)
	rows[k] = sum
}

func addConnection(conns map[ConnectionID]ConnectionInfo, id ConnectionID, info ConnectionInfo) {
	if old, ok := conns[id]; ok {
		info = old.Merge(info)
	}
	conns[id] = info
}

func writeRows(tx *bolt.Tx, rows map[Key]Counters) error {
	bucket := tx.Bucket(bucketRows)
	for k, c := range rows {
		key, err := encodeRowKey(k)
		if err != nil {
			return err
		}
		if old := bucket.Get(key); old != nil {
			prev, err := decodeCounters(old)
			if err != nil {
				return fmt.Errorf("row %+v: %w", k, err)
			}
			prev.Add(c)
			c = prev
		}
		if err := bucket.Put(key, encodeCounters(c)); err != nil {
			return err
		}
	}
	return nil
}

func writeConnections(tx *bolt.Tx, conns map[ConnectionID]ConnectionInfo) error {
	bucket := tx.Bucket(bucketConnections)
	for id, info := range conns {
		key := encodeConnectionKey(id)
		if old := bucket.Get(key); old != nil {
			prev, err := decodeConnectionInfo(old)
			if err != nil {
				return fmt.Errorf("connection %+v: %w", id, err)
			}
			info = prev.Merge(info)
		}
		if err := bucket.Put(key, encodeConnectionInfo(info)); err != nil {
			return err
		}
	}
	return nil
}

// writeZones records the zone of each organization and month not recorded
// yet; the first one stays.
func writeZones(tx *bolt.Tx, group []*commitRequest) error {
	bucket := tx.Bucket(bucketZones)
	for _, req := range group {
		for k, zone := range req.batch.Zones() {
			key := append([]byte(k.Month), k.Org...)
			if bucket.Get(key) != nil {
				continue
			}
			if err := bucket.Put(key, []byte(zone)); err != nil {
				return err
			}
		}
	}
	return nil
}
