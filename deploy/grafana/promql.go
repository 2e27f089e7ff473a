package grafana // import "github.com/usageledger/usageledger/deploy/grafana"

// History is how far back the dashboards look for the ledger's months. The
// ledger republishes a month's exact figures at every scrape while the
// exporter exposes it; once it no longer does, the store's last sample of
// the month is its final figure. Thirteen months of retention keep the
// current month and the twelve before it.
const History = "400d"

// ledgerLabels are the labels that name one ledger row. Aggregating by them
// with max drops whatever labels a pipeline adds (job, instance,
// otel_scope_name) and counts a row once even when two feeds or two
// scrape targets carry it; a counter that only grows makes max the latest
// value.
const ledgerLabels = "org, connection, model, month"

// rows returns the latest value of every ledger row of metric matching
// matchers, once per row.
func rows(metric, matchers string) string {
	return "max by (" + ledgerLabels + ") (last_over_time(" + metric + "{" + matchers + "}[" + History + "]))"
}

// tokenRows is rows for the tokens counter, kept apart by type.
func tokenRows(matchers string) string {
	return "max by (" + ledgerLabels + ", type) (last_over_time(genai_connection_tokens_total{" +
		matchers + "}[" + History + "]))"
}

// sumBy sums expr by the labels by, or over everything when by is empty.
func sumBy(by, expr string) string {
	if by == "" {
		return "sum(" + expr + ")"
	}
	return "sum by (" + by + ") (" + expr + ")"
}

// The ledger's counters.
const (
	requests     = "genai_connection_requests_total"
	blocked      = "genai_connection_blocked_total"
	rateLimited  = "genai_connection_rate_limited_total"
	errorsTotal  = "genai_connection_errors_total"
	cost         = "genai_connection_cost_usd_total"
	unpriced     = "genai_connection_unpriced_requests_total"
	usageMissing = "genai_connection_usage_missing_total"
	lastSeen     = "genai_connection_last_seen_timestamp_seconds"
	info         = "genai_connection_info"
)

// inputOutput selects the tokens a call used: input includes cache reads
// and writes and output includes reasoning, so those two add up to the
// total.
const inputOutput = `type=~"input|output"`
