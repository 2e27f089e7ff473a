package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

// BudgetsConfig holds monthly USD budgets per organization and connection,
// exposed next to the counters they watch.
type BudgetsConfig struct {
	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the budgets.
func (cfg *BudgetsConfig) Validate() error {
	return nil
}
