package conformance

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

// collector is one instance of the built distribution, run as a child
// process with a generated configuration on free loopback ports.
type collector struct {
	bin string
	dir string

	httpAddr    string
	metricsAddr string

	cmd     *exec.Cmd
	done    chan error
	logPath string
}

// collectorBinary returns the path of the built distribution, or skips the
// test when USAGELEDGER_COLLECTOR is not set (plain `go test ./...`).
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("USAGELEDGER_COLLECTOR")
	if bin == "" {
		t.Skip("USAGELEDGER_COLLECTOR is not set; `make conformance` installs the npm " +
			"packages, builds the collector and sets it")
	}
	_, err := os.Stat(bin)
	require.NoError(t, err, "USAGELEDGER_COLLECTOR names a file that does not exist")
	return bin
}

// startCollector runs a collector whose /metrics exposes exactly months,
// and waits until it serves.
func startCollector(t *testing.T, months []string) *collector {
	t.Helper()
	c := &collector{
		bin:         collectorBinary(t),
		dir:         t.TempDir(),
		httpAddr:    freeAddr(t),
		metricsAddr: freeAddr(t),
	}
	_, selfPort, err := net.SplitHostPort(freeAddr(t))
	require.NoError(t, err)
	quoted := make([]string, len(months))
	for i, m := range months {
		quoted[i] = strconv.Quote(m)
	}
	config := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
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
`, c.httpAddr, filepath.Join(c.dir, "ledger", "usage-ledger.db"), c.metricsAddr,
		strings.Join(quoted, ", "), selfPort)
	configPath := filepath.Join(c.dir, "config.yaml")
	require.NoError(t, os.WriteFile(configPath, []byte(config), 0o600))
	t.Cleanup(c.stop)

	c.logPath = filepath.Join(c.dir, "collector.log")
	logFile, err := os.Create(c.logPath)
	require.NoError(t, err)
	c.cmd = exec.Command(c.bin, "--config", configPath)
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
			t.Fatalf("collector exited at start: %v\n%s", err, c.log())
		default:
		}
		// Components start in no fixed order: /metrics answering says
		// nothing of the OTLP receiver, so wait for both.
		if serving(c.metricsAddr) && listening(c.httpAddr) {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("collector was not ready within 30s\n%s", c.log())
	return nil
}

// log returns what the collector wrote so far, for failure messages.
func (c *collector) log() string {
	b, _ := os.ReadFile(c.logPath)
	return string(b)
}

// stop ends the collector: SIGTERM, then a kill if it does not exit.
func (c *collector) stop() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			fmt.Fprintf(os.Stderr, "waiting for the collector: %v\n", err)
		}
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
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

// listening reports whether addr accepts a TCP connection.
func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
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
