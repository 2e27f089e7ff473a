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
// both, on a path where no ledger is yet, several times, as a first start
// would, and expects it ready each time.
func TestEndToEndReceiverOnANewLedger(t *testing.T) {
	bin := collectortest.Binary(t, "`make e2e`")
	for round := range 3 {
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
				t.Fatalf("round %d: the collector exited at start: %v\n%s", round, err, log())
			case <-time.After(100 * time.Millisecond):
				ready = strings.Contains(log(), "Everything is ready")
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		<-done
		logFile.Close()
		require.True(t, ready, "round %d: the collector was not ready within 30 s\n%s", round, log())
	}
}
