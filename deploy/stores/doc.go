// Package stores runs the Usage Ledger dashboards and alert rules against
// real Prometheus and VictoriaMetrics, fed by scraping the collector's
// /metrics and by the usageledger receiver through prometheusremotewrite.
// The test needs the built collector in USAGELEDGER_COLLECTOR (make stores)
// and the Debian packages prometheus and victoria-metrics; it takes about
// ten seconds.
package stores // import "github.com/usageledger/usageledger/deploy/stores"
