// Package procstat reads the CPU time and memory of a process from /proc
// and watches them against limits while a scenario runs.
package procstat // import "github.com/usageledger/usageledger/testbed/internal/procstat"

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// 100 on every Linux architecture the testbed runs on.
const clockTicks = 100

// Sample is one reading of a process.
type Sample struct {
	At         time.Time
	CPUSeconds float64 // user + system time since the process started
	RSS        int64   // resident set size now, bytes (VmRSS)
	PeakRSS    int64   // highest resident set size so far, bytes (VmHWM)
	// RSSAnon and RSSFile split RSS into anonymous memory (the heap) and
	// mapped files (such as a memory-mapped ledger file).
	RSSAnon int64
	RSSFile int64
}

// Read samples the process pid.
func Read(pid int) (Sample, error) {
	s := Sample{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("procstat: %w", err)
	}
	// The command name in parentheses may hold spaces; fields count from
	// after its closing parenthesis, where field 3 (state) is index 0.
	closing := bytes.LastIndexByte(stat, ')')
	if closing < 0 {
		return s, fmt.Errorf("procstat: unexpected /proc/%d/stat: %q", pid, stat)
	}
	fields := strings.Fields(string(stat[closing+1:]))
	if len(fields) < 13 {
		return s, fmt.Errorf("procstat: /proc/%d/stat has %d fields; expecting at least 15", pid, len(fields)+2)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("procstat: unexpected utime %q or stime %q", fields[11], fields[12])
	}
	s.CPUSeconds = float64(utime+stime) / clockTicks

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("procstat: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "VmRSS":
			s.RSS = kibibytes(value)
		case "VmHWM":
			s.PeakRSS = kibibytes(value)
		case "RssAnon":
			s.RSSAnon = kibibytes(value)
		case "RssFile":
			s.RSSFile = kibibytes(value)
		}
	}
	return s, nil
}

// kibibytes parses a /proc/<pid>/status value such as "  123456 kB" into bytes.
func kibibytes(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n * 1024
}

// Limits bound a process during a scenario; zero means no bound.
// Limits bound a watched process's memory; a zero field is no bound.
type Limits struct {
	MaxRSS int64 // resident set size, bytes
	// MaxRSSAnon bounds anonymous memory only, for processes whose
	// memory-mapped files (the kernel's page cache, which it can reclaim)
	// are expected to grow.
	MaxRSSAnon int64
}

// breach counts the samples above one limit, from first to last, with max
// the highest of them.
type breach struct {
	n           int
	first, last time.Time
	max         int64
}

func (b *breach) record(at time.Time, v, limit int64) {
	if limit <= 0 || v <= limit {
		return
	}
	if b.n == 0 {
		b.first = at
	}
	b.n++
	b.last = at
	b.max = max(b.max, v)
}

func (b *breach) String(what string, limit int64) string {
	return fmt.Sprintf("%s above the limit of %d MiB in %d samples from %s to %s, at most %d MiB",
		what, limit>>20, b.n, b.first.Format(time.TimeOnly), b.last.Format(time.TimeOnly), b.max>>20)
}

// Watcher samples one process periodically. Its methods are safe for
// concurrent use.
type Watcher struct {
	pid    int
	limits Limits

	mu       sync.Mutex
	last     Sample
	peak     int64
	peakAnon int64
	// over and overAnon count the samples above MaxRSS and MaxRSSAnon.
	over, overAnon breach
	stop           chan struct{}
	done           chan struct{}
}

// Watch starts sampling pid every period.
func Watch(pid int, period time.Duration, limits Limits) *Watcher {
	w := &Watcher{pid: pid, limits: limits, stop: make(chan struct{}), done: make(chan struct{})}
	if s, err := Read(pid); err == nil {
		w.last, w.peak, w.peakAnon = s, s.PeakRSS, s.RSSAnon
	}
	go w.loop(period)
	return w
}

func (w *Watcher) loop(period time.Duration) {
	defer close(w.done)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.sample()
		}
	}
}

func (w *Watcher) sample() {
	s, err := Read(w.pid)
	if err != nil {
		return // the process ended; the last sample stands
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = s
	w.peak = max(w.peak, s.PeakRSS, s.RSS)
	w.peakAnon = max(w.peakAnon, s.RSSAnon)
	w.over.record(s.At, s.RSS, w.limits.MaxRSS)
	w.overAnon.record(s.At, s.RSSAnon, w.limits.MaxRSSAnon)
}

// Now takes a sample at once and returns it.
func (w *Watcher) Now() Sample {
	w.sample()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// PeakRSS is the highest resident set size seen, in bytes.
func (w *Watcher) PeakRSS() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// PeakRSSAnon is the highest anonymous resident memory seen, in bytes.
func (w *Watcher) PeakRSSAnon() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peakAnon
}

// Violations describes the samples that broke a limit, if any.
func (w *Watcher) Violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	if w.over.n > 0 {
		out = append(out, w.over.String("RSS", w.limits.MaxRSS))
	}
	if w.overAnon.n > 0 {
		out = append(out, w.overAnon.String("anonymous RSS", w.limits.MaxRSSAnon))
	}
	return out
}

// Stop takes a last sample and ends the watching; it is safe to call twice.
func (w *Watcher) Stop() {
	select {
	case <-w.stop:
	default:
		w.sample()
		close(w.stop)
	}
	<-w.done
}

// MachineBusy returns the CPU seconds all processes of the machine have
// spent busy (user, nice, system, irq, softirq, steal) since boot, from
// /proc/stat; the difference of two readings minus the scenario's own
// processes is the other work that shared the cores.
func MachineBusy() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("procstat: unexpected first line of /proc/stat: %q", line)
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: unexpected /proc/stat field %q", f[i])
		}
		busy += n
	}
	return float64(busy) / clockTicks, nil
}
