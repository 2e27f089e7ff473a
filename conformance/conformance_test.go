package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/collectortest"
)

// TestConformance runs every library in libraries against the stand-in
// provider, with the built collector behind a recording proxy, and checks
// after each call exactly what the ledger counted for it.
func TestConformance(t *testing.T) {
	bin := collectortest.Binary(t, "`make conformance` installs the npm packages,")
	requireNodePackages(t)

	c := collectortest.New(t, bin, monthsFrom(time.Now().UTC()))
	c.Start(t)
	providerURL := startProvider(t)
	rec := startRecorder(t, c.HTTPAddr, os.Getenv("USAGELEDGER_CONFORMANCE_RECORD"))

	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			runLibrary(t, lib, c, rec, providerURL)
		})
	}
	if t.Failed() {
		t.Logf("collector log:\n%s", c.Log())
	}
}

// monthsFrom returns the months a call made from now on can fall in while
// the suite runs: this one, and the next when it starts within a day.
func monthsFrom(now time.Time) []string {
	months := []string{now.Format("2006-01")}
	if next := now.Add(24 * time.Hour).Format("2006-01"); next != months[0] {
		months = append(months, next)
	}
	return months
}

// requireNodePackages fails with the command to run when Node.js or the
// packages of package-lock.json are missing.
func requireNodePackages(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("node")
	require.NoError(t, err, "node is not on PATH; the conformance suite runs Node.js 20 or later")
	_, err = os.Stat("node_modules/.package-lock.json")
	require.NoError(t, err, "conformance/node_modules is missing; run `npm ci --no-audit --no-fund` "+
		"in conformance/ (`make conformance` does)")
}

// startProvider runs the stand-in model provider and returns its URL.
func startProvider(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("node", "provider.js")
	cmd.Env = nodeEnv()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the stand-in provider did not start")
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	require.True(t, ok, "unexpected first line from the stand-in provider: %q", line)
	return url
}

// nodeEnv is the environment of the Node.js processes: this process's,
// without settings of the OpenTelemetry SDK that would change what the
// libraries send, and with the libraries' own telemetry turned off.
func nodeEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "NODE_OPTIONS=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TRACELOOP_TELEMETRY=FALSE")
	return append(env, extra...)
}

// scriptTimeout bounds one library's run; the slowest takes about two
// seconds.
const scriptTimeout = 2 * time.Minute

// stepReport is the line run.js prints after each call's spans are exported.
type stepReport struct {
	Call      string  `json:"call"`
	Error     *string `json:"error"`
	OpenSpans int     `json:"open_spans"`
}

// runLibrary runs one library's script a call at a time and checks what
// the ledger counted between two calls against that call's expectation.
func runLibrary(t *testing.T, lib library, c *collectortest.Collector, rec *recorder, providerURL string) {
	rec.begin(t, lib.name)
	defer rec.end(t)

	cmd := exec.Command("node", "run.js", lib.name)
	cmd.Env = nodeEnv(
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://"+rec.addr+"/v1/traces",
		"PROVIDER_URL="+providerURL,
		"CONFORMANCE_SERVICE="+lib.service,
		"CONFORMANCE_TENANT="+lib.tenant,
		"CONFORMANCE_STEP=1",
	)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	// A script stuck on a call would block the scan below forever; killing
	// it ends the scan, and the test fails naming the call.
	watchdog := time.AfterFunc(scriptTimeout, func() { _ = cmd.Process.Kill() })
	defer watchdog.Stop()
	defer func() { _ = cmd.Process.Kill() }()

	// stop ends the script and fails the test with what it wrote to stderr,
	// read once the process has exited.
	stop := func(format string, args ...any) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf(format+"\n%s", append(args, stderr.String())...)
	}

	lines := bufio.NewScanner(stdout)
	before := scrape(t, c.MetricsAddr, lib.tenant)
	for _, want := range lib.calls {
		if !lines.Scan() {
			stop("%s: the script ended before this call: %v", want.name, lines.Err())
		}
		var step stepReport
		require.NoError(t, json.Unmarshal(lines.Bytes(), &step), "line from run.js: %s", lines.Text())
		require.Equal(t, want.name, step.Call, "run.js makes the calls in the order of cases_test.go")
		if want.fails {
			require.NotNil(t, step.Error, "%s: the client must get an error back", want.name)
		} else {
			if step.Error != nil {
				stop("%s: the client must succeed, got %q", want.name, *step.Error)
			}
		}

		after := scrape(t, c.MetricsAddr, lib.tenant)
		verdict{t: t, library: lib.name, call: want.name}.checkTally(want, tallyDelta(before, after))
		before = after

		_, err := stdin.Write([]byte("next\n"))
		require.NoError(t, err)
	}
	require.False(t, lines.Scan(), "run.js made a call cases_test.go does not list: %s", lines.Text())
	err = cmd.Wait()
	require.NoError(t, err, "run.js failed:\n%s", stderr.String())

	// Spans a library ends only at shutdown would be counted now, on no
	// call: there must be none.
	last := scrape(t, c.MetricsAddr, lib.tenant)
	verdict{t: t, library: lib.name, call: "after the last call"}.checkTally(call{}, tallyDelta(before, last))
}
