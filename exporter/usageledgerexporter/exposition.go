package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// serveMetrics answers a scrape with the ledger's counters of the exposed
// months in the Prometheus text format.
func (e *ledgerExporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method "+r.Method+" not allowed; expecting GET", http.StatusMethodNotAllowed)
		return
	}
	store := e.ledger()
	if store == nil {
		http.Error(w, errNotStarted.Error(), http.StatusServiceUnavailable)
		return
	}

	var buf bytes.Buffer
	err := writeExposition(r.Context(), &buf, store, e.exposedMonths())
	if err == nil {
		err = writeBudgets(r.Context(), &buf, store, &e.cfg.Budgets, e.calendar, e.now())
	}
	if err != nil {
		e.telemetry.ExporterUsageledgerExpositionFailures.Add(r.Context(), 1)
		e.logger.Warn("Cannot read the usage ledger for /metrics", zap.Error(err))
		http.Error(w, "cannot read the usage ledger: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// exposedMonths returns the pinned months, or else the configured number of
// months up to the current one.
func (e *ledgerExporter) exposedMonths() []string {
	if len(e.cfg.PinnedMonths) > 0 {
		return e.cfg.PinnedMonths
	}
	return e.calendar.lastMonths(e.now(), e.cfg.Months)
}

// family is one metric of the exposition and how it reads a row.
type family struct {
	name, help string
	value      func(c *ledger.Counters) uint64
}

// rowFamilies are the integer counters per org, connection, model and month,
// in the order they are written. Tokens and cost follow them.
var rowFamilies = []family{
	{"genai_connection_requests_total", "Counted calls, all outcomes.",
		func(c *ledger.Counters) uint64 { return c.Requests }},
	{"genai_connection_blocked_total", "Calls a guardrail stopped before the model ran.",
		func(c *ledger.Counters) uint64 { return c.Blocked }},
	{"genai_connection_rate_limited_total", "Calls a rate limit or quota throttled.",
		func(c *ledger.Counters) uint64 { return c.RateLimited }},
	{"genai_connection_errors_total", "Calls that failed for another reason.",
		func(c *ledger.Counters) uint64 { return c.Errors }},
	{"genai_connection_filtered_total", "Answered calls whose answer a content filter cut.",
		func(c *ledger.Counters) uint64 { return c.Filtered }},
	{"genai_connection_unpriced_requests_total", "Calls no price matched; their cost is not in the cost total.",
		func(c *ledger.Counters) uint64 { return c.Unpriced }},
	{"genai_connection_usage_missing_total", "Calls that reported no token usage.",
		func(c *ledger.Counters) uint64 { return c.UsageMissing }},
}

// tokenTypes are the values of the type label of genai_connection_tokens_total.
var tokenTypes = []struct {
	name  string
	value func(c *ledger.Counters) uint64
}{
	{"input", func(c *ledger.Counters) uint64 { return c.InputTokens }},
	{"output", func(c *ledger.Counters) uint64 { return c.OutputTokens }},
	{"cache_read", func(c *ledger.Counters) uint64 { return c.CacheReadTokens }},
	{"cache_write", func(c *ledger.Counters) uint64 { return c.CacheWriteTokens }},
	{"reasoning", func(c *ledger.Counters) uint64 { return c.ReasoningTokens }},
}

// writeExposition writes the rows of months and their connections to w,
// every family sorted by its labels.
//
// Sample lines go through the VictoriaMetrics/metrics writers, which add
// metadata of their own only when metrics.ExposeMetadata is switched on for
// the process; it must stay off, as HELP and TYPE are written here once per
// family.
func writeExposition(ctx context.Context, w io.Writer, store ledger.Store, months []string) error {
	rows, err := store.Rows(ctx, months)
	if err != nil {
		return err
	}
	conns, err := store.Connections(ctx)
	if err != nil {
		return err
	}
	writeSeries(w, newSeries(rows, conns))
	return nil
}

// writeSeries writes the families of series to w.
func writeSeries(w io.Writer, series exposedSeries) {
	for _, f := range rowFamilies {
		writeMetadata(w, f.name, f.help, "counter")
		for _, r := range series.rows {
			metrics.WriteCounterUint64(w, f.name+"{"+r.labels+"}", f.value(&r.counters))
		}
	}

	const tokens = "genai_connection_tokens_total"
	writeMetadata(w, tokens,
		"Tokens by type: input includes cache reads and writes, output includes reasoning.", "counter")
	for _, r := range series.rows {
		for _, tt := range tokenTypes {
			metrics.WriteCounterUint64(w, tokens+"{"+r.labels+`,type="`+tt.name+`"}`, tt.value(&r.counters))
		}
	}

	const cost = "genai_connection_cost_usd_total"
	writeMetadata(w, cost, "Cost in USD, a view of the exact amount in the ledger.", "counter")
	for _, r := range series.rows {
		metrics.WriteCounterFloat64(w, cost+"{"+r.labels+"}", r.counters.Cost.USD())
	}

	const lastSeen = "genai_connection_last_seen_timestamp_seconds"
	writeMetadata(w, lastSeen, "Unix time of the connection's latest call.", "gauge")
	for _, c := range series.connections {
		metrics.WriteGaugeFloat64(w, lastSeen+"{"+c.labels+"}", float64(c.info.LastSeen)/1e9)
	}

	const info = "genai_connection_info"
	writeMetadata(w, info, "Chargeback labels of the connection as of its latest call; always 1.", "gauge")
	for _, c := range series.connections {
		metrics.WriteGaugeUint64(w, info+"{"+c.labels+`,team="`+labelValue(c.info.Team)+
			`",cost_center="`+labelValue(c.info.CostCenter)+`"}`, 1)
	}
}

func writeMetadata(w io.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// exposedSeries are the label sets of one scrape with their values, sorted.
type exposedSeries struct {
	rows        []rowSeries
	connections []connectionSeries
}

type rowSeries struct {
	key      ledger.Key // label values, escaped
	labels   string
	counters ledger.Counters
}

type connectionSeries struct {
	id     ledger.ConnectionID // label values, escaped
	labels string
	info   ledger.ConnectionInfo
}

// newSeries turns rows into series keyed by their escaped label values.
// Names that differ only in bytes that are not UTF-8 escape to the same
// labels; their counters are added so that no series appears twice. Only
// connections with a row in the exposed months are listed.
func newSeries(rows []ledger.Row, conns []ledger.Connection) exposedSeries {
	byKey := make(map[ledger.Key]ledger.Counters, len(rows))
	byID := make(map[ledger.ConnectionID]ledger.ConnectionInfo)
	for _, r := range rows {
		k := ledger.Key{
			Org:        labelValue(r.Org),
			Connection: labelValue(r.Connection),
			Month:      labelValue(r.Month),
			Model:      labelValue(r.Model),
		}
		c := byKey[k]
		c.Add(r.Counters)
		byKey[k] = c

		id := ledger.ConnectionID{Org: k.Org, Connection: k.Connection}
		byID[id] = byID[id].Merge(ledger.ConnectionInfo{LastSeen: c.LastSeen})
	}
	for _, c := range conns {
		id := ledger.ConnectionID{Org: labelValue(c.Org), Connection: labelValue(c.Connection)}
		if prev, ok := byID[id]; ok {
			byID[id] = prev.Merge(c.ConnectionInfo)
		}
	}

	var s exposedSeries
	for k, c := range byKey {
		labels := `org="` + k.Org + `",connection="` + k.Connection +
			`",model="` + k.Model + `",month="` + k.Month + `"`
		s.rows = append(s.rows, rowSeries{key: k, labels: labels, counters: c})
	}
	slices.SortFunc(s.rows, func(a, b rowSeries) int {
		return cmp.Or(cmp.Compare(a.key.Org, b.key.Org), cmp.Compare(a.key.Connection, b.key.Connection),
			cmp.Compare(a.key.Model, b.key.Model), cmp.Compare(a.key.Month, b.key.Month))
	})
	for id, info := range byID {
		s.connections = append(s.connections, connectionSeries{
			id:     id,
			labels: `org="` + id.Org + `",connection="` + id.Connection + `"`,
			info:   info,
		})
	}
	slices.SortFunc(s.connections, func(a, b connectionSeries) int {
		return cmp.Or(cmp.Compare(a.id.Org, b.id.Org), cmp.Compare(a.id.Connection, b.id.Connection))
	})
	return s
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labelValue escapes s for a quoted label value of the Prometheus text
// format: backslash, double quote and newline are escaped, and bytes that are
// not UTF-8 become U+FFFD, as the format allows only UTF-8.
func labelValue(s string) string {
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}
