package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import "github.com/usageledger/usageledger/internal/budget"

// BudgetsConfig holds monthly USD budgets per organization and connection,
// exposed next to the counters they watch. The usageledger receiver reads
// the same keys; see [budget.Config].
type BudgetsConfig = budget.Config

// OrganizationBudget is the monthly budget of one organization.
type OrganizationBudget = budget.Organization

// ConnectionBudget is the monthly budget of one connection.
type ConnectionBudget = budget.Connection
