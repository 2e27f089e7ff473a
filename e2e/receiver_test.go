package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/collectortest"
)

// The receiver refuses a path with no ledger and relies on the exporter
// having created it: the collector starts every other component before
// any receiver. TestEndToEndReceiverOnANewLedger starts a collector with
// both on a path where no ledger is yet, as a first start does, and
// expects it ready.
func TestEndToEndReceiverOnANewLedger(t *testing.T) {
	bin := collectortest.Binary(t, "`make e2e`")
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
  usageledger:
    path: %[2]s
processors:
  genaiusage:
exporters:
  usageledger:
    path: %[2]s
    metrics:
      endpoint: %[3]s
  nop:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [usageledger]
      exporters: [nop]
    traces:
      receivers: [otlp]
      processors: [genaiusage]
      exporters: [usageledger]
`, collectortest.FreeAddr(t), filepath.Join(dir, "data", "usage-ledger.db"),
		collectortest.FreeAddr(t))), 0o600))

	logPath := filepath.Join(dir, "collector.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "--config", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	log := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}

	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !ready; {
		select {
		case err := <-done:
			t.Fatalf("the collector exited at start: %v\n%s", err, log())
		case <-time.After(100 * time.Millisecond):
			ready = strings.Contains(log(), "Everything is ready")
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
	<-done
	logFile.Close()
	require.True(t, ready, "the collector was not ready within 30 s\n%s", log())
}
