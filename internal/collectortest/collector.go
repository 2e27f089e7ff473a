// Package collectortest runs the built Usage Ledger collector as a child
// process for tests: a generated configuration on free loopback ports, the
// ledger in a temporary folder, readiness checked on every port, and its
// log kept for failure messages.
package collectortest // import "github.com/usageledger/usageledger/internal/collectortest"

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// EnvBinary names the environment variable holding the path of the built
// distribution; make sets it for the suites that need it.
const EnvBinary = "USAGELEDGER_COLLECTOR"

// readyTimeout bounds how long a start or a stop may take.
const readyTimeout = 30 * time.Second

// Collector is one instance of the distribution. Its ledger file lives in
// Dir, so a restart finds the counters it wrote. The pipeline is the
// default one: otlp → memory_limiter → genaiusage → usageledger.
type Collector struct {
	Dir string

	GRPCAddr    string // OTLP/gRPC
	HTTPAddr    string // OTLP/HTTP
	MetricsAddr string // the exporter's /metrics
	SelfAddr    string // the collector's own metrics

	bin    string
	config string
	cmd    *exec.Cmd
	done   chan error
	runs   int
	log    string
}

// Binary returns the path in EnvBinary, or skips the test when it is not
// set (plain `go test ./...`); how names the make target that sets it.
func Binary(t *testing.T, how string) string {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		t.Skipf("%s is not set; %s builds the collector and sets it", EnvBinary, how)
	}
	_, err := os.Stat(bin)
	require.NoError(t, err, "%s names a file that does not exist", EnvBinary)
	return bin
}

// New prepares a collector whose /metrics exposes exactly months, so the
// test does not depend on today's date. It is stopped when the test ends.
func New(t *testing.T, bin string, months []string) *Collector {
	t.Helper()
	c := &Collector{
		Dir:         t.TempDir(),
		GRPCAddr:    FreeAddr(t),
		HTTPAddr:    FreeAddr(t),
		MetricsAddr: FreeAddr(t),
		SelfAddr:    FreeAddr(t),
		bin:         bin,
	}
	quoted := make([]string, len(months))
	for i, m := range months {
		quoted[i] = strconv.Quote(m)
	}
	selfHost, selfPort, err := net.SplitHostPort(c.SelfAddr)
	require.NoError(t, err)
	config := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  genaiusage:
exporters:
  usageledger:
    path: %s
    metrics:
      endpoint: %s
    pinned_months: [%s]
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, genaiusage]
      exporters: [usageledger]
`, c.GRPCAddr, c.HTTPAddr, filepath.Join(c.Dir, "ledger", "usage-ledger.db"), c.MetricsAddr,
		strings.Join(quoted, ", "), selfHost, selfPort)
	c.config = filepath.Join(c.Dir, "config.yaml")
	require.NoError(t, os.WriteFile(c.config, []byte(config), 0o600))
	t.Cleanup(c.Kill)
	return c
}

// Start runs the collector and waits until it is ready: /metrics answers
// and both OTLP receivers accept connections (components start in no fixed
// order, so one port open says nothing of the others).
func (c *Collector) Start(t *testing.T) {
	t.Helper()
	c.runs++
	c.log = filepath.Join(c.Dir, fmt.Sprintf("collector-%d.log", c.runs))
	logFile, err := os.Create(c.log)
	require.NoError(t, err)

	c.cmd = exec.Command(c.bin, "--config", c.config)
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	require.NoError(t, c.cmd.Start())
	c.done = make(chan error, 1)
	go func() {
		c.done <- c.cmd.Wait()
		logFile.Close()
	}()

	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.cmd = nil
			t.Fatalf("collector exited at start: %v\n%s", err, c.Log())
		default:
		}
		if serving(c.MetricsAddr) && listening(c.GRPCAddr, c.HTTPAddr) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("collector was not ready within %s\n%s", readyTimeout, c.Log())
}

// Stop ends the collector gracefully and waits for it to exit.
func (c *Collector) Stop(t *testing.T) {
	t.Helper()
	if c.cmd == nil {
		return
	}
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-c.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("waiting for the collector: %v", err)
		}
	case <-time.After(readyTimeout):
		t.Fatalf("collector did not stop within %s of SIGTERM\n%s", readyTimeout, c.Log())
	}
	c.cmd = nil
}

// Kill ends a collector that a failed test left running.
func (c *Collector) Kill() {
	if c.cmd != nil {
		_ = c.cmd.Process.Kill()
		<-c.done
		c.cmd = nil
	}
}

// Log returns what the latest run wrote so far, for failure messages.
func (c *Collector) Log() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// serving reports whether addr answers GET /metrics with 200.
func serving(addr string) bool {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// listening reports whether every address accepts a TCP connection.
func listening(addrs ...string) bool {
	for _, addr := range addrs {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
	}
	return true
}
