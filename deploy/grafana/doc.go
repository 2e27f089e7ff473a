// Package grafana defines the Usage Ledger dashboards: every panel with its
// PromQL, from which the JSON under dashboards/ is generated (make
// dashboards) with the Grafana Foundation SDK. The queries are exported so
// that the tests run each of them against real Prometheus and
// VictoriaMetrics.
package grafana // import "github.com/usageledger/usageledger/deploy/grafana"
