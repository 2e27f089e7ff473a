// Package budget holds the monthly USD budgets per organization and per
// connection: their configuration, shared by the usageledger exporter and
// receiver under the key budgets, and what each budget stands at in the
// current month, computed the same way for /metrics and for the metrics
// the receiver emits.
package budget // import "github.com/usageledger/usageledger/internal/budget"
