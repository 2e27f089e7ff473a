//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package genaiusageprocessor provides the genaiusage processor. It finds the
// spans that are one billable GenAI call (a model inference, an embedding, a
// tool or MCP call, a call to a remote agent) in every common span dialect,
// counts each call once however many instrumentations recorded it, and
// writes onto its span the facts the usageledger exporter counts:
// organization, connection, outcome, normalized token counts and exact cost.
// Every other span passes untouched; no span is dropped.
package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"
