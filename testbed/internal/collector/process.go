// Package collector runs a collector binary as a child process with a
// generated configuration, pinned to one CPU core with GOMAXPROCS=1 (unless
// its spec sets another), and keeps its output in a log file.
package collector // import "github.com/usageledger/usageledger/testbed/internal/collector"

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Spec says what to run.
type Spec struct {
	// Name labels the log files, e.g. "usage".
	Name string
	// Binary is the collector executable; Config its YAML configuration.
	Binary string
	Config string
	// Env is added to the environment of the process, after GOMAXPROCS=1:
	// a GOMAXPROCS in Env overrides it, as the last value of a variable
	// counts.
	Env []string
	// Dir holds the configuration and the logs; it must exist.
	Dir string
	// Core is the CPU the process is pinned to; -1 leaves it unpinned.
	Core int
}

// Process is one run of a collector.
type Process struct {
	spec    Spec
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // exit status, valid once done is closed
}

// Start writes the configuration and starts the collector. It does not wait
// for the collector to be ready; see [Process.WaitReady].
func Start(spec Spec, run int) (*Process, error) {
	cfgPath := filepath.Join(spec.Dir, spec.Name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(spec.Config), 0o600); err != nil {
		return nil, fmt.Errorf("collector: writing config: %w", err)
	}
	logPath := filepath.Join(spec.Dir, fmt.Sprintf("%s-%d.log", spec.Name, run))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("collector: creating log: %w", err)
	}

	args := []string{"--config", cfgPath}
	bin := spec.Binary
	if spec.Core >= 0 {
		if taskset, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{"-c", strconv.Itoa(spec.Core), bin}, args...)
			bin = taskset
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "GOMAXPROCS=1"), spec.Env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = spec.Dir
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("collector: starting %s: %w", spec.Binary, err)
	}
	p := &Process{spec: spec, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (taskset execs the collector in place).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.logPath }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitReady waits until every TCP address in addrs accepts connections and
// every URL in urls answers 200, or the process exits, or timeout passes.
func (p *Process) WaitReady(timeout time.Duration, addrs []string, urls []string) error {
	deadline := time.Now().Add(timeout)
	pending := append([]string(nil), addrs...)
	pendingURLs := append([]string(nil), urls...)
	client := http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("collector %s exited at start (%v); log: %s", p.spec.Name, p.err, p.logPath)
		}
		for len(pending) > 0 {
			c, err := net.DialTimeout("tcp", pending[0], 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			pending = pending[1:]
		}
		for len(pending) == 0 && len(pendingURLs) > 0 {
			resp, err := client.Get(pendingURLs[0])
			if err != nil {
				break
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				break
			}
			pendingURLs = pendingURLs[1:]
		}
		if len(pending) == 0 && len(pendingURLs) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("collector %s not ready within %s (waiting for %v %v); log: %s",
		p.spec.Name, timeout, pending, pendingURLs, p.logPath)
}

// Stop sends SIGTERM and waits up to timeout for a clean exit, then kills.
func (p *Process) Stop(timeout time.Duration) error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("collector: signalling %s: %w", p.spec.Name, err)
	}
	select {
	case <-p.done:
		var exit *exec.ExitError
		if p.err != nil && !errors.As(p.err, &exit) {
			return fmt.Errorf("collector: waiting for %s: %w", p.spec.Name, p.err)
		}
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("collector %s did not stop within %s of SIGTERM; killed", p.spec.Name, timeout)
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

var (
	handedOutMu sync.Mutex
	handedOut   = map[string]bool{}
)

// FreeAddr returns a loopback address whose port was free a moment ago and
// that this process has not handed out before (the kernel may offer a port
// again as soon as it is closed).
func FreeAddr() (string, error) {
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("collector: finding a free port: %w", err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr, nil
		}
	}
	return "", fmt.Errorf("collector: no new free port in 100 tries")
}

// Port returns the port part of a host:port address.
func Port(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
