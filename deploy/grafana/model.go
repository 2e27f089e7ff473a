package grafana // import "github.com/usageledger/usageledger/deploy/grafana"

import "strings"

// Dashboard is one dashboard: its panels in reading order and the variables
// its queries use.
type Dashboard struct {
	UID, Title, Description string
	// File is the name of the JSON file under dashboards/.
	File      string
	Variables []Variable
	Panels    []Panel
}

// Kind is how a panel draws its queries.
type Kind int

const (
	// Stat shows one number.
	Stat Kind = iota
	// Table lists the rows of instant queries, joined by their labels.
	Table
	// Bars draws one bar per row of instant queries, by month or model.
	Bars
	// TimeSeries draws range queries over the dashboard's time range.
	TimeSeries
)

// Panel is one panel of a dashboard.
type Panel struct {
	Title, Description string
	Kind               Kind
	// Unit is Grafana's unit id: "short", "currencyUSD", "percentunit", "s".
	Unit    string
	Queries []Query
	// Width is the panel's width in grid columns out of 24; height is 8.
	Width uint32
	// XField names the label bars are drawn along.
	XField string
}

// Query is one PromQL query of a panel. Expr may use the dashboard's
// variables as $name.
type Query struct {
	Expr, Legend string
	// Unit, when set, is the unit of this query's values instead of the
	// panel's; it needs Legend, the name of the query's field.
	Unit string
	// RightAxis draws this query's values against an axis of their own on
	// the right of the panel, so that two scales share one chart; it needs
	// Legend.
	RightAxis bool
}

// Variable is a dashboard variable. A query variable lists the values of
// Label of Metric; a custom one offers fixed Values, the first being the
// default.
type Variable struct {
	Name, Label string
	// Metric and Label of a query variable; Metric may use other variables.
	Metric, LabelName string
	// Values of a custom variable, comma-separated.
	Values string
	// Newest sorts the values descending, so the newest month comes first.
	Newest bool
}

// Expand replaces the variables $name of expr with values; the tests run
// the expanded queries as Grafana would send them.
func Expand(expr string, values map[string]string) string {
	pairs := make([]string, 0, 2*len(values))
	for name, v := range values {
		pairs = append(pairs, "$"+name, v)
	}
	return strings.NewReplacer(pairs...).Replace(expr)
}

// Dashboards returns every dashboard.
func Dashboards() []Dashboard {
	return []Dashboard{organization(), connection(), insights(), health()}
}
