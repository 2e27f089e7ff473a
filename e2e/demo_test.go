package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoRow is one line of the totals the sample agents print with
// -summary-json: what they sent to one connection and model.
type demoRow struct {
	Org         string `json:"org"`
	Connection  string `json:"connection"`
	Model       string `json:"model"`
	Requests    int64  `json:"requests"`
	Blocked     int64  `json:"blocked"`
	RateLimited int64  `json:"rate_limited"`
	Input       int64  `json:"input"`
	Output      int64  `json:"output"`
	CacheRead   int64  `json:"cache_read"`
	CostPicoUSD int64  `json:"cost_picousd"`
}

// demoRun is what one run of the sample agents sent, and in which month.
type demoRun struct {
	Rows  []demoRow `json:"rows"`
	month string
}

// runDemoAgents builds and runs cmd/demo-agents against the collector's
// OTLP/gRPC endpoint and returns the totals it says it sent.
func runDemoAgents(t *testing.T, grpcAddr string) demoRun {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "demo-agents")
	build := exec.Command("go", "build", "-o", bin, "../cmd/demo-agents")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the sample agents: %s", out)

	summary := filepath.Join(dir, "summary.json")
	run := exec.Command(bin, "-endpoint", grpcAddr, "-summary-json", summary)
	month := time.Now().UTC().Format("2006-01")
	out, err = run.CombinedOutput()
	require.NoError(t, err, "running the sample agents: %s", out)

	raw, err := os.ReadFile(summary)
	require.NoError(t, err)
	var sent demoRun
	require.NoError(t, json.Unmarshal(raw, &sent))
	require.NotEmpty(t, sent.Rows)
	sent.month = month
	return sent
}

// checkDemo asserts that every connection and model the sample agents used
// shows exactly what they sent.
func checkDemo(t *testing.T, e exposition, sent demoRun) {
	t.Helper()
	for _, r := range sent.Rows {
		labels := map[string]string{
			"org": r.Org, "connection": r.Connection, "model": r.Model, "month": sent.month,
		}
		assert.Equal(t, r.Requests, e.count("genai_connection_requests_total", labels), "requests %v", labels)
		assert.Equal(t, r.Blocked, e.count("genai_connection_blocked_total", labels), "blocked %v", labels)
		assert.Equal(t, r.RateLimited, e.count("genai_connection_rate_limited_total", labels),
			"rate limited %v", labels)
		assert.Equal(t, r.Input, e.count("genai_connection_tokens_total", with(labels, "type", "input")),
			"input tokens %v", labels)
		assert.Equal(t, r.Output, e.count("genai_connection_tokens_total", with(labels, "type", "output")),
			"output tokens %v", labels)
		assert.Equal(t, r.CacheRead, e.count("genai_connection_tokens_total", with(labels, "type", "cache_read")),
			"cache read tokens %v", labels)
		assert.Equal(t, r.CostPicoUSD, e.picoUSD(labels), "cost %v", labels)
	}

	// One round of the script, added up by hand from cmd/demo-agents: per
	// organization the requests, blocked, rate-limited, input and output
	// tokens, and the cost in picodollars.
	for org, want := range map[string][6]int64{
		"initech":  {8, 1, 1, 12000, 1120, 13_167_500_000},
		"umbrella": {8, 2, 1, 24300, 1600, 35_445_000_000},
	} {
		labels := map[string]string{"org": org, "month": sent.month}
		got := [6]int64{
			e.count("genai_connection_requests_total", labels),
			e.count("genai_connection_blocked_total", labels),
			e.count("genai_connection_rate_limited_total", labels),
			e.count("genai_connection_tokens_total", with(labels, "type", "input")),
			e.count("genai_connection_tokens_total", with(labels, "type", "output")),
			e.picoUSD(labels),
		}
		assert.Equal(t, want, got, "org %s: requests, blocked, rate limited, input, output, cost", org)
	}
}
