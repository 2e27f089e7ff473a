// Package ledger holds the monthly usage counters of every connection and the
// stores that keep them durable.
//
// A [Key] names one row: an organization, a connection, a calendar month and
// a model. Its [Counters] only ever grow. Writers collect many calls into a
// [Batch] in memory and hand it to [Store.Commit], which applies the whole
// batch or nothing. A call added with its [SpanKey] counts once: the store
// records the key in the same transaction as the counters and skips a call
// whose key it recorded within the [Dedup] window. A call that also carries
// a [ResponseKey] (its trace and the provider's response id) is skipped
// when either key was recorded, so two spans of one call count once. Readers ask for the rows
// of the months they show.
//
// The default store is an embedded file opened with [Open]; a process opens a
// given file once and every component that opens the same path shares that
// handle.
package ledger // import "github.com/usageledger/usageledger/internal/ledger"
