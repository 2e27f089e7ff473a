// Package conformance checks the built Usage Ledger collector against real
// instrumentation libraries from npm. Node.js scripts in this folder run
// each library's OpenAI or Anthropic client against a stand-in model
// provider on loopback (provider.js) and export the library's spans over
// OTLP/HTTP JSON; the Go test runs the collector, steps through the calls
// one at a time and checks every counter on /metrics after each call
// against values derived from the stand-in's fixed usage and list prices.
//
// `make conformance` installs the Node packages (`npm ci` in this folder),
// builds the collector and points USAGELEDGER_COLLECTOR at it; without that
// variable the test skips, so `go test ./...` stays fast and offline.
// Setting USAGELEDGER_CONFORMANCE_RECORD to a folder also writes each
// library's export requests there, one JSON request per line, as the
// fixtures in testdata/real-clients were recorded.
package conformance
