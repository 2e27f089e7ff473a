package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// collector is one instance of the built distribution, run as a child
// process with a generated configuration on free loopback ports. Its
// ledger file lives in dir, so a restart finds the counters it wrote.
type collector struct {
	bin string
	dir string

	grpcAddr    string
	httpAddr    string
	metricsAddr string
	selfAddr    string

	cmd  *exec.Cmd
	done chan error
	runs int
}

// collectorBinary returns the path of the built distribution, or skips the
// test when USAGELEDGER_COLLECTOR is not set (plain `go test ./...`).
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("USAGELEDGER_COLLECTOR")
	if bin == "" {
		t.Skip("USAGELEDGER_COLLECTOR is not set; `make e2e` builds the collector and sets it")
	}
	_, err := os.Stat(bin)
	require.NoError(t, err, "USAGELEDGER_COLLECTOR names a file that does not exist")
	return bin
}

// newCollector prepares a collector whose configuration exposes the given
// months, so the test does not depend on today's date.
func newCollector(t *testing.T, months []string) *collector {
	t.Helper()
	c := &collector{
		bin:         collectorBinary(t),
		dir:         t.TempDir(),
		grpcAddr:    freeAddr(t),
		httpAddr:    freeAddr(t),
		metricsAddr: freeAddr(t),
	}
	selfPort := freeAddr(t)
	c.selfAddr = selfPort

	monthList := ""
	for _, m := range months {
		monthList += strconv.Quote(m) + ", "
	}
	_, selfPortNum, err := net.SplitHostPort(selfPort)
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
                host: 127.0.0.1
                port: %s
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, genaiusage]
      exporters: [usageledger]
`, c.grpcAddr, c.httpAddr, filepath.Join(c.dir, "ledger", "usage-ledger.db"), c.metricsAddr,
		monthList, selfPortNum)
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "config.yaml"), []byte(config), 0o600))
	t.Cleanup(c.kill)
	return c
}

// start runs the collector and waits until it is ready: /metrics answers
// and both OTLP receivers accept connections (components start in no fixed
// order, so one port open says nothing of the others).
func (c *collector) start(t *testing.T) {
	t.Helper()
	c.runs++
	logPath := filepath.Join(c.dir, fmt.Sprintf("collector-%d.log", c.runs))
	logFile, err := os.Create(logPath)
	require.NoError(t, err)

	c.cmd = exec.Command(c.bin, "--config", filepath.Join(c.dir, "config.yaml"))
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	require.NoError(t, c.cmd.Start())
	c.done = make(chan error, 1)
	go func() {
		c.done <- c.cmd.Wait()
		logFile.Close()
	}()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.cmd = nil
			log, _ := os.ReadFile(logPath)
			t.Fatalf("collector exited at start: %v\n%s", err, log)
		default:
		}
		if serving(c.metricsAddr) && listening(c.grpcAddr, c.httpAddr) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("collector was not ready within 30s\n%s", log)
}

// stop ends the collector gracefully and waits for it to exit.
func (c *collector) stop(t *testing.T) {
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
	case <-time.After(30 * time.Second):
		t.Fatal("collector did not stop within 30s of SIGTERM")
	}
	c.cmd = nil
}

// kill ends a collector that a failed test left running.
func (c *collector) kill() {
	if c.cmd != nil {
		_ = c.cmd.Process.Kill()
		<-c.done
		c.cmd = nil
	}
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

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
