package stores

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs a process for the rest of the test, its output in a file of
// the test's temp dir that is printed if the test fails.
func start(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			if len(out) > 4000 {
				out = out[len(out)-4000:]
			}
			t.Logf("%s output (tail):\n%s", filepath.Base(name), out)
		}
	})
}

// waitFor polls ok every 250ms until it returns true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// sample is one series of an instant query's result.
type sample struct {
	labels map[string]string
	value  float64
}

// store is a time-series store answering the Prometheus HTTP query API.
type store struct {
	name string
	base string // e.g. http://127.0.0.1:9090
}

// unixSeconds is t as the query API takes it, to the millisecond.
func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// query runs expr as an instant query at at.
func (s store) query(expr string, at time.Time) ([]sample, error) {
	var result []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	err := s.get("/api/v1/query", url.Values{"query": {expr}, "time": {unixSeconds(at)}}, "vector", &result)
	if err != nil {
		return nil, err
	}
	out := make([]sample, 0, len(result))
	for _, r := range result {
		_, v, err := parsePoint(r.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: query %s: %w", s.name, expr, err)
		}
		out = append(out, sample{labels: r.Metric, value: v})
	}
	return out, nil
}

// series is one series of a range query's result.
type series struct {
	labels map[string]string
	points []point
}

// point is one step of a range query: its time, unix seconds, and value.
type point struct {
	at    float64
	value float64
}

// queryRange runs expr as a range query from start to end, every step.
func (s store) queryRange(expr string, start, end time.Time, step time.Duration) ([]series, error) {
	var result []struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	err := s.get("/api/v1/query_range", url.Values{"query": {expr}, "start": {unixSeconds(start)},
		"end": {unixSeconds(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}, "matrix", &result)
	if err != nil {
		return nil, err
	}
	out := make([]series, 0, len(result))
	for _, r := range result {
		ser := series{labels: r.Metric}
		for _, raw := range r.Values {
			at, v, err := parsePoint(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: query %s: %w", s.name, expr, err)
			}
			ser.points = append(ser.points, point{at: at, value: v})
		}
		out = append(out, ser)
	}
	return out, nil
}

// get calls the query API at path and decodes the result, which must be of
// resultType, into result.
func (s store) get(path string, params url.Values, resultType string, result any) error {
	resp, err := http.Get(s.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	expr := params.Get("query")
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: cannot decode the answer to %s: %w", s.name, expr, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: query %s failed: %s", s.name, expr, body.Error)
	}
	if body.Data.ResultType != resultType {
		return fmt.Errorf("%s: query %s returned %s; expecting a %s", s.name, expr, body.Data.ResultType, resultType)
	}
	return json.Unmarshal(body.Data.Result, result)
}

// parsePoint reads a [time, "value"] pair of the query API.
func parsePoint(raw [2]any) (at, value float64, err error) {
	at, _ = raw[0].(float64)
	text, _ := raw[1].(string)
	value, err = strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("value %q: %w", text, err)
	}
	return at, value, nil
}

// holds reports whether expr gives, now, one series of exactly value.
func (s store) holds(expr string, value float64) bool {
	got, err := s.query(expr, time.Now())
	return err == nil && len(got) == 1 && got[0].value == value
}

// near reports whether expr gives, now, one series within a billionth of
// value, as a sum of exact costs turned to floating point is.
func (s store) near(expr string, value float64) bool {
	got, err := s.query(expr, time.Now())
	return err == nil && len(got) == 1 && math.Abs(got[0].value-value) <= 1e-9*math.Max(1, math.Abs(value))
}
