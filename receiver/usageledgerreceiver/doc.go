//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package usageledgerreceiver reads the usage ledger on an interval and emits
// its monthly counters as OpenTelemetry metrics, so the exact monthly figures
// can travel through any metrics pipeline. The metric names translate to the
// same Prometheus series as the usageledger exporter's /metrics.
package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"
