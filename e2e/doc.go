// Package e2e holds the end-to-end tests of the built Usage Ledger
// collector: they run bin/otelcol-usageledger as a child process on free
// loopback ports (internal/collectortest), send it spans over real OTLP
// clients and read back its /metrics endpoint. `make e2e` (part of
// `make test`) builds the binary and points USAGELEDGER_COLLECTOR at it;
// without that variable the tests skip.
package e2e
