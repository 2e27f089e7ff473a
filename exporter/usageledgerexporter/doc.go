//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package usageledgerexporter counts the calls the genaiusage processor marks
// into monthly per-connection counters, commits them to the usage ledger, and
// serves the counters of the current months as Prometheus text at /metrics.
package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"
