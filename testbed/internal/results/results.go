// Package results collects the measurements of one testbed run and writes
// them as a Markdown table and as JSON, with every pipeline compared with
// the baseline pipeline of the same run.
package results // import "github.com/usageledger/usageledger/testbed/internal/results"

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Baseline is the pipeline name the others are compared with.
const Baseline = "baseline"

// Row is one measured load phase of one pipeline.
type Row struct {
	Scenario string `json:"scenario"`
	Pipeline string `json:"pipeline"`
	// Phase is "saturation" (as fast as the pipeline acknowledges) or
	// "rate N/s" (a fixed offered load).
	Phase string `json:"phase"`

	Spans       int64   `json:"spans"`
	Seconds     float64 `json:"seconds"`
	SpansPerSec float64 `json:"spans_per_second"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	// CPUPerMillion is CPU seconds (user+system) per million spans.
	CPUPerMillion float64 `json:"cpu_seconds_per_million_spans"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	// CollectorBusy and LoadBusy are the shares of their cores the
	// collector and the test process (load generator and trace backend)
	// used during the phase; a LoadBusy near 1 means the generator, not the
	// collector, set the pace.
	CollectorBusy float64 `json:"collector_core_busy"`
	LoadBusy      float64 `json:"load_core_busy"`
	// OtherBusy is the CPU, in cores, that other processes of the machine
	// used during the phase: the noise in the measurement.
	OtherBusy float64 `json:"other_processes_cores"`
	// Rounds is how many times the phase ran; the row is the round with
	// the highest throughput.
	Rounds int `json:"rounds,omitempty"`

	// Ratios against the baseline row of the same phase, filled in by
	// [Report.Write].
	ThroughputVsBaseline float64 `json:"throughput_vs_baseline,omitempty"`
	CPUVsBaseline        float64 `json:"cpu_per_span_vs_baseline,omitempty"`

	// Correctness says how the counters compared with the expected ones.
	Correctness string `json:"correctness"`
}

// Report is the rows and notes of one run. It is safe for concurrent use.
type Report struct {
	mu    sync.Mutex
	Mode  string     `json:"mode"`
	Start time.Time  `json:"start"`
	Host  string     `json:"host"`
	Rows  []Row      `json:"rows"`
	Crash []CrashRow `json:"crash_rounds,omitempty"`
	Notes []string   `json:"notes"`
}

// Add records one row.
func (r *Report) Add(row Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rows = append(r.Rows, row)
}

// Note records one line of free text, shown under the table.
func (r *Report) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// fillRatios sets the ratios of every row against the baseline row of the
// same phase; r.mu is held.
func (r *Report) fillRatios() {
	for i := range r.Rows {
		row := &r.Rows[i]
		j := slices.IndexFunc(r.Rows, func(b Row) bool { return b.Pipeline == Baseline && b.Phase == row.Phase })
		if j < 0 || row.Pipeline == Baseline {
			continue
		}
		b := r.Rows[j]
		if b.SpansPerSec > 0 {
			row.ThroughputVsBaseline = row.SpansPerSec / b.SpansPerSec
		}
		if b.CPUPerMillion > 0 {
			row.CPUVsBaseline = row.CPUPerMillion / b.CPUPerMillion
		}
	}
}

// order ranks scenarios and pipelines for the table.
var order = []string{"comparison", "high cardinality", "faults", Baseline, "usage", "usage, with trace backend", "diy",
	"baseline, GOMAXPROCS=2", "usage, GOMAXPROCS=2"}

func rank(s string) int {
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order)
}

// Markdown renders the table and the notes.
func (r *Report) Markdown() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortStableFunc(r.Rows, func(a, b Row) int {
		if c := rank(a.Scenario) - rank(b.Scenario); c != 0 {
			return c
		}
		return rank(a.Pipeline) - rank(b.Pipeline)
	})
	r.fillRatios()
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s (%s) on %s.\n\n", r.Start.UTC().Format(time.RFC3339), r.Mode, r.Host)
	b.WriteString("| scenario | pipeline | phase | spans | spans/s | × baseline | CPU s / M spans | × baseline | peak RSS MiB | collector core | load core | other processes | counters |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	ratio := func(v float64) string {
		if v == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", v)
	}
	for _, row := range r.Rows {
		cpu, busy, load, other := "—", "—", "—", "—"
		if row.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.2f", row.CPUPerMillion)
			busy = fmt.Sprintf("%.0f%%", 100*row.CollectorBusy)
			load = fmt.Sprintf("%.0f%%", 100*row.LoadBusy)
			other = fmt.Sprintf("%.2f cores", row.OtherBusy)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %s |\n",
			row.Scenario, row.Pipeline, row.Phase, row.Spans, row.SpansPerSec, ratio(row.ThroughputVsBaseline),
			cpu, ratio(row.CPUVsBaseline), row.PeakRSSMiB, busy, load, other, row.Correctness)
	}
	r.crashMarkdown(&b)
	for _, phase := range r.phases() {
		if added := r.addedVsDIY(phase); added != "" {
			fmt.Fprintf(&b, "\nCPU added per span over the baseline (%s): %s\n", phase, added)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

func (r *Report) phases() []string {
	var out []string
	for _, row := range r.Rows {
		if !slices.Contains(out, row.Phase) {
			out = append(out, row.Phase)
		}
	}
	return out
}

// addedVsDIY compares the CPU per span the usage pipeline and the
// do-it-yourself pipeline add over the baseline in one phase; r.mu is held.
func (r *Report) addedVsDIY(phase string) string {
	find := func(p string) (Row, bool) {
		i := slices.IndexFunc(r.Rows, func(row Row) bool { return row.Pipeline == p && row.Phase == phase })
		if i < 0 {
			return Row{}, false
		}
		return r.Rows[i], true
	}
	b, ok1 := find(Baseline)
	d, ok2 := find("diy")
	if !ok1 || !ok2 {
		return ""
	}
	diy := d.CPUPerMillion - b.CPUPerMillion
	var parts []string
	for _, p := range []string{"usage", "usage, with trace backend", "usage, GOMAXPROCS=2"} {
		u, ok := find(p)
		if !ok {
			continue
		}
		added := u.CPUPerMillion - b.CPUPerMillion
		part := fmt.Sprintf("%s %+.2f s/M spans", p, added)
		if strings.Contains(p, "GOMAXPROCS=2") {
			part += " over the baseline with one P"
		}
		if diy > 0 {
			part += fmt.Sprintf(" (%.2f× what do-it-yourself adds)", added/diy)
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("do-it-yourself %+.2f s/M spans; %s", diy, strings.Join(parts, "; "))
}

// Write stores the report as <dir>/<name>.md and <dir>/<name>.json.
func (r *Report) Write(dir, name string) error {
	md := r.Markdown()
	r.mu.Lock()
	js, err := json.MarshalIndent(r, "", "  ")
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}
