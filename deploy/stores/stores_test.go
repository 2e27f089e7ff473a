package stores

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/usageledger/usageledger/deploy/grafana"
)

// pipelineLabels are labels a feed adds; the queries aggregate them away
// and the expectations ignore them.
var pipelineLabels = []string{"job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}

// binaries returns the paths of the collector, Prometheus and
// VictoriaMetrics. Without the collector the test skips; without the
// stores it skips too, unless CI is set.
func binaries(t *testing.T) (collector, prometheus, victoria string) {
	t.Helper()
	collector = os.Getenv("USAGELEDGER_COLLECTOR")
	if collector == "" {
		t.Skip("USAGELEDGER_COLLECTOR is not set; make stores builds the collector and runs this test")
	}
	missing := func(what string) {
		if os.Getenv("CI") != "" {
			t.Fatal(what)
		}
		t.Skip(what)
	}
	var err error
	if prometheus, err = exec.LookPath("prometheus"); err != nil {
		missing("prometheus not found on PATH; apt-get install -y prometheus victoria-metrics")
	}
	if victoria, err = exec.LookPath("victoria-metrics"); err != nil {
		missing("victoria-metrics not found on PATH; apt-get install -y prometheus victoria-metrics")
	}
	return collector, prometheus, victoria
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDashboardsAndRulesOnRealStores feeds known traffic over four months to
// Prometheus and VictoriaMetrics twice over, by scraping /metrics and through
// the receiver and prometheusremotewrite, then sends two rounds of live
// spans that move every self-metric of the collector health dashboard, and
// runs every panel query and every alert rule expression on the four
// stores, and the accumulated cost panel over the rounds' timeline.
func TestDashboardsAndRulesOnRealStores(t *testing.T) {
	collector, prometheus, victoria := binaries(t)

	now := time.Now()
	m := monthsAt(now)
	if now.Sub(m.s0) < 2*time.Minute {
		t.Skip("the month has just begun; the traffic of this month would be dated last month")
	}
	if m.s0.AddDate(0, 1, 0).Sub(now) < 10*time.Minute {
		t.Skip("the month ends within minutes; the live spans would be dated next month")
	}
	ledgerPath := filepath.Join(t.TempDir(), "usage-ledger.db")
	writeTraffic(t, ledgerPath, now, m)

	metricsPort, otlpPort, telemetryPort := freePort(t), freePort(t), freePort(t)
	promScrapePort, promWritePort := freePort(t), freePort(t)
	vmScrapePort, vmWritePort := freePort(t), freePort(t)

	scrapeConfig := writeFile(t, "scrape.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: usageledger
    static_configs: [{targets: ["127.0.0.1:%d"]}]
  - job_name: otelcol
    static_configs: [{targets: ["127.0.0.1:%d"]}]
`, metricsPort, telemetryPort))
	emptyConfig := writeFile(t, "empty.yml", "global:\n  scrape_interval: 1s\n")

	promArgs := func(port int, config string) []string {
		return []string{"--config.file=" + config, "--storage.tsdb.path=" + t.TempDir(),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--web.enable-remote-write-receiver",
			"--storage.tsdb.retention.time=400d"}
	}
	vmArgs := func(port int, extra ...string) []string {
		return append([]string{"-storageDataPath=" + t.TempDir(), fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port),
			"-retentionPeriod=13", "-search.latencyOffset=0s", "-search.disableCache"}, extra...)
	}
	start(t, prometheus, promArgs(promScrapePort, scrapeConfig)...)
	start(t, prometheus, promArgs(promWritePort, emptyConfig)...)
	start(t, victoria, vmArgs(vmScrapePort, "-promscrape.config="+scrapeConfig)...)
	start(t, victoria, vmArgs(vmWritePort)...)

	// The receiver and the exporter are given the same budgets, so both
	// feeds carry them. models_per_connection: 2 sends the third model of a
	// connection to _overflow; the ledger's own rows have at most two.
	budgets := `    budgets:
      organizations:
        - org: acme
          monthly_usd: 150
      connections:
        - org: acme
          connection: support-bot
          monthly_usd: 50
`
	collectorConfig := writeFile(t, "collector.yaml", fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%[1]d
  usageledger:
    path: %[2]s
    collection_interval: 1s
    initial_delay: 0s
    months: 4
%[7]sprocessors:
  genaiusage:
exporters:
  usageledger:
    path: %[2]s
    metrics:
      endpoint: 127.0.0.1:%[3]d
    months: 4
    limits:
      models_per_connection: 2
%[7]s  prometheus_remote_write/prometheus:
    endpoint: http://127.0.0.1:%[4]d/api/v1/write
  prometheus_remote_write/victoriametrics:
    endpoint: http://127.0.0.1:%[5]d/api/v1/write
service:
  telemetry:
    logs:
      level: warn
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[6]d
  pipelines:
    traces:
      receivers: [otlp]
      processors: [genaiusage]
      exporters: [usageledger]
    metrics:
      receivers: [usageledger]
      exporters: [prometheus_remote_write/prometheus, prometheus_remote_write/victoriametrics]
`, otlpPort, ledgerPath, metricsPort, promWritePort, vmWritePort, telemetryPort, budgets))
	start(t, collector, "--config", collectorConfig)
	otlpAddr := fmt.Sprintf("127.0.0.1:%d", otlpPort)
	telemetryAddr := fmt.Sprintf("127.0.0.1:%d", telemetryPort)

	stores := []store{
		{name: "prometheus, scraped", base: fmt.Sprintf("http://127.0.0.1:%d", promScrapePort)},
		{name: "victoriametrics, scraped", base: fmt.Sprintf("http://127.0.0.1:%d", vmScrapePort)},
		{name: "prometheus, remote write", base: fmt.Sprintf("http://127.0.0.1:%d", promWritePort)},
		{name: "victoriametrics, remote write", base: fmt.Sprintf("http://127.0.0.1:%d", vmWritePort)},
	}
	// Ten ledger rows, and the four budget series of the two budgets.
	for _, s := range stores {
		waitFor(t, 60*time.Second, s.name+" to hold the ledger", func() bool {
			return s.holds("count(genai_connection_requests_total)", 10) &&
				s.holds("count(genai_budget_usd)", 2)
		})
	}

	// The first round of live spans makes the self-metrics' series: a rate
	// over a counter needs a sample from before it moved. The second round
	// moves them by a known amount within the window the rates are taken
	// over: from windowStart, once every store holds the first round, to at,
	// once every store holds the second.
	timeline := liveTimeline{beforeRounds: time.Now()}
	sendRound(t, otlpAddr, 1)
	waitForRound(t, stores, 1)
	time.Sleep(2 * time.Second) // a few samples of the first round's figures
	beforeSecond := commitBuckets(t, telemetryAddr)
	timeline.windowStart = time.Now()
	time.Sleep(time.Second)
	sendRound(t, otlpAddr, 2)
	waitForRound(t, stores, 2)
	secondRound := increase(beforeSecond, commitBuckets(t, telemetryAddr))
	// A few samples after the second round, and a window long enough that
	// the stores' sampling shifts a rate by little.
	time.Sleep(max(2*time.Second, time.Until(timeline.windowStart.Add(minWindow))))
	at := time.Now()
	timeline.at = at
	window := int(math.Ceil(at.Sub(timeline.windowStart).Seconds()))

	vars := map[string]string{
		"org": "acme", "connection": "support-bot", "month": m.m0, "compare_month": m.m1,
		"idle_days": "30", "share": "0.5", "blocked_ratio": "0.2", "growth": "2",
		"__rate_interval": fmt.Sprintf("%ds", window),
	}
	lv := liveFigures(t, window, secondRound)
	t.Logf("rates over %ds; the second round's commit latency buckets %v, p99 %.6fs", window, secondRound, lv.p99)
	exp := expectations(m, at, lv)
	for _, d := range grafana.Dashboards() {
		for _, p := range d.Panels {
			for i, q := range p.Queries {
				key := fmt.Sprintf("%s / %s / %d", d.Title, p.Title, i)
				want, ok := exp.panels[key]
				if !ok {
					t.Errorf("no expectation for %s", key)
					continue
				}
				expr := grafana.Expand(q.Expr, vars)
				for si, s := range stores {
					got, err := s.query(expr, at)
					if err != nil {
						t.Errorf("%s: %v", key, err)
						continue
					}
					checkSamples(t, s.name+": "+key, want.forFeed(si >= 2), got)
				}
			}
		}
	}

	for _, r := range alertRules(t) {
		want, ok := exp.alerts[r.Alert]
		if !ok {
			t.Errorf("no expectation for alert %s", r.Alert)
			continue
		}
		for si, s := range stores {
			got, err := s.query(r.Expr, at)
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
				continue
			}
			checkSamples(t, s.name+": alert "+r.Alert, want.forFeed(si >= 2), got)
		}
	}

	checkAccumulatedCost(t, stores, m, timeline)
}

// minWindow is the shortest window the rates are taken over: the stores
// sample every second, which makes a rate over it uncertain by 2.5s/17.5s,
// a seventh.
const minWindow = 20 * time.Second

// waitForRound waits until every store holds the ledger after n rounds of
// live spans (four more rows, and initech's cost), and the scraped stores
// hold the self-metrics after them.
func waitForRound(t *testing.T, stores []store, n float64) {
	t.Helper()
	cost := `sum(max by (org, connection, model, month) (genai_connection_cost_usd_total{org="` + liveOrg + `"}))`
	for i, s := range stores {
		waitFor(t, 60*time.Second, fmt.Sprintf("%s to hold round %v", s.name, n), func() bool {
			if !s.holds("count(genai_connection_requests_total)", 14) || !s.near(cost, n*round.costUSD) {
				return false
			}
			if i >= 2 {
				return true
			}
			return s.holds(selfTotal("otelcol_processor_genaiusage_spans_malformed"), n*round.processorMalformed) &&
				s.holds(selfTotal("otelcol_exporter_usageledger_malformed_spans"), n*round.exporterMalformed) &&
				s.holds(selfTotal("otelcol_processor_genaiusage_spans_duplicate"), n*round.processorDuplicates) &&
				s.holds(selfTotal("otelcol_exporter_usageledger_duplicate_spans"), n*round.exporterDuplicates) &&
				s.holds(selfTotal("otelcol_exporter_usageledger_calls_overflowed"), n*round.overflowed) &&
				s.holds(selfTotal("otelcol_processor_genaiusage_calls_unpriced"), n*round.unpriced) &&
				s.holds(selfTotal("otelcol_exporter_usageledger_commits"), n*round.commits) &&
				s.holds(`sum({__name__=~"`+commitHistogram+`(_seconds)?_count"})`, n*round.commits)
		})
	}
}

// selfTotal sums a counter of the collector's telemetry, with or without
// the _total suffix, as the health panels read it.
func selfTotal(metric string) string {
	return `sum({__name__=~"` + metric + `(_total)?"})`
}

// rule is an alert rule of deploy/prometheus/usageledger.rules.yml.
type rule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

func alertRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "prometheus", "usageledger.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var rules []rule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) != 10 {
		t.Fatalf("found %d alert rules; expecting 10", len(rules))
	}
	return rules
}

// want is the expected result of a query: its series with their labels and
// values, each within tol of the value.
type want struct {
	series []sample
	// remoteWrite is the result on the remote-write feed unless sameOnBoth:
	// that feed carries the ledger and the budgets but not the collector's
	// own telemetry.
	remoteWrite []sample
	sameOnBoth  bool
	tol         float64
}

func (w want) forFeed(remoteWrite bool) want {
	if remoteWrite && !w.sameOnBoth {
		return want{series: w.remoteWrite, tol: w.tol}
	}
	return w
}

func labelKey(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		if k == "__name__" || slices.Contains(pipelineLabels, k) {
			continue
		}
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func checkSamples(t *testing.T, what string, w want, got []sample) {
	t.Helper()
	gotBy := make(map[string]float64, len(got))
	for _, s := range got {
		gotBy[labelKey(s.labels)] = s.value
	}
	wantBy := make(map[string]float64, len(w.series))
	for _, s := range w.series {
		wantBy[labelKey(s.labels)] = s.value
	}
	for k, v := range wantBy {
		g, ok := gotBy[k]
		if !ok {
			t.Errorf("%s: missing series %s (want %v); got %v", what, k, v, gotBy)
			continue
		}
		tol := w.tol
		if tol == 0 {
			tol = 1e-9 * math.Max(1, math.Abs(v))
		}
		if math.Abs(g-v) > tol {
			t.Errorf("%s: series %s = %v; want %v", what, k, g, v)
		}
	}
	for k, v := range gotBy {
		if _, ok := wantBy[k]; !ok {
			t.Errorf("%s: unexpected series %s = %v", what, k, v)
		}
	}
}
