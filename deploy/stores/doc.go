// Package stores runs the Usage Ledger dashboards and alert rules against
// real Prometheus and VictoriaMetrics, fed by scraping the collector's
// /metrics and its own telemetry, and by the usageledger receiver through
// prometheusremotewrite: first over a ledger of known traffic, then over two
// rounds of live spans that move every self-metric of the collector health
// dashboard. The test needs the built collector in USAGELEDGER_COLLECTOR
// (make stores) and the Debian packages prometheus and victoria-metrics; it
// takes about thirty-five seconds.
package stores // import "github.com/usageledger/usageledger/deploy/stores"
