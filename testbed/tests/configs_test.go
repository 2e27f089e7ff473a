package tests

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// telemetry is the service.telemetry section every pipeline gets: basic
// self-metrics on a pull endpoint of its own, as the do-it-yourself
// configuration has, so all pipelines pay the same for them.
func telemetry(selfAddr string) string {
	return fmt.Sprintf(`  telemetry:
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %s
`, portOf(selfAddr))
}

// baselineConfig is the reference pipeline: OTLP receiver, batch processor,
// nop exporter.
func baselineConfig(grpcAddr, selfAddr string) string {
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  batch:
exporters:
  nop:
service:
%s  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [nop]
`, grpcAddr, telemetry(selfAddr))
}

// usage describes one Usage Ledger configuration.
type usage struct {
	grpcAddr    string
	metricsAddr string
	selfAddr    string
	ledgerPath  string
	// backendAddr, when set, adds an OTLP/gRPC exporter to the trace
	// backend in the same pipeline, with its default sending queue and
	// retries.
	backendAddr string
	// nopTraces adds a nop exporter beside the ledger, standing for a
	// trace backend that costs nothing.
	nopTraces bool
	// months is the exporter's `months`; 0 keeps the default.
	months int
	// pinned are months always exposed (YYYY-MM).
	pinned []string
	// pprofAddr, when set, serves the Go profiler there.
	pprofAddr string
	// queueDir, when set, puts the ledger exporter behind a persistent
	// sending queue kept by file_storage (fsync on) in this folder, so that
	// an acknowledged export means "in the queue on disk".
	queueDir string
}

// usageConfig is the default Usage Ledger pipeline of config.yaml:
// memory_limiter → genaiusage → usageledger, no batch processor and, unless
// queueDir is set, no sending queue in front of the ledger.
func usageConfig(u usage) string {
	var b strings.Builder
	fmt.Fprintf(&b, `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  genaiusage:
    trust_counted_spans: false
exporters:
  usageledger:
    path: %s
    metrics:
      endpoint: %s
`, u.grpcAddr, u.ledgerPath, u.metricsAddr)
	if u.months > 0 {
		fmt.Fprintf(&b, "    months: %d\n", u.months)
	}
	if len(u.pinned) > 0 {
		quoted := make([]string, len(u.pinned))
		for i, m := range u.pinned {
			quoted[i] = strconv.Quote(m)
		}
		fmt.Fprintf(&b, "    pinned_months: [%s]\n", strings.Join(quoted, ", "))
	}
	if u.queueDir != "" {
		b.WriteString("    sending_queue:\n      enabled: true\n      storage: file_storage\n")
	}
	exporters := "usageledger"
	if u.backendAddr != "" {
		fmt.Fprintf(&b, `  otlp_grpc/backend:
    endpoint: %s
    tls:
      insecure: true
`, u.backendAddr)
		exporters += ", otlp_grpc/backend"
	}
	if u.nopTraces {
		b.WriteString("  nop:\n")
		exporters += ", nop"
	}
	var extensions []string
	if u.pprofAddr != "" || u.queueDir != "" {
		b.WriteString("extensions:\n")
	}
	if u.pprofAddr != "" {
		fmt.Fprintf(&b, "  pprof:\n    endpoint: %s\n", u.pprofAddr)
		extensions = append(extensions, "pprof")
	}
	if u.queueDir != "" {
		fmt.Fprintf(&b, "  file_storage:\n    directory: %s\n    fsync: true\n", u.queueDir)
		extensions = append(extensions, "file_storage")
	}
	b.WriteString("service:\n")
	if len(extensions) > 0 {
		fmt.Fprintf(&b, "  extensions: [%s]\n", strings.Join(extensions, ", "))
	}
	fmt.Fprintf(&b, `%s  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, genaiusage]
      exporters: [%s]
`, telemetry(u.selfAddr), exporters)
	return b.String()
}

// diyConfig returns testbed/diy-pipeline.yaml and the environment that
// points it at the given addresses.
func diyConfig(t *testing.T, grpcAddr, promAddr, selfAddr string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile("../diy-pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data), []string{
		"DIY_OTLP_GRPC_ENDPOINT=" + grpcAddr,
		"DIY_PROMETHEUS_ENDPOINT=" + promAddr,
		"DIY_SELF_METRICS_PORT=" + portOf(selfAddr),
	}
}

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}
