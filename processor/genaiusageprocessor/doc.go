//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package genaiusageprocessor provides the genaiusage processor. It finds the
// spans that are one billable GenAI call (a model inference, an embedding, a
// call to a remote agent) and writes onto each the facts the usageledger
// exporter counts: organization, connection, outcome, normalized token counts
// and exact cost. Every other span passes untouched; no span is dropped.
package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"
