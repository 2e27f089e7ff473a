package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// serveMetrics answers a scrape with the ledger's counters of the exposed
// months in the Prometheus text format, gzip-compressed when the scraper
// accepts it.
//
// Everything is read from the ledger before the first byte is written, so
// that a failed read is still answered with a 500; the text is then
// streamed, never held whole in memory.
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

	months := e.exposedMonths()
	rows, err := store.Rows(r.Context(), months)
	// Budgets first: the series take the rows over.
	var budgets []budgetState
	if err == nil {
		read := monthRows{months: months, rows: rows}
		budgets, err = readBudgets(r.Context(), store, &e.cfg.Budgets, e.calendar, e.now(), read)
	}
	var series exposedSeries
	if err == nil {
		series, err = seriesOf(r.Context(), store, rows)
	}
	if err != nil {
		e.telemetry.ExporterUsageledgerExpositionFailures.Add(r.Context(), 1)
		e.logger.Warn("Cannot read the usage ledger for /metrics", zap.Error(err))
		http.Error(w, "cannot read the usage ledger: "+err.Error(), http.StatusInternalServerError)
		return
	}

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Add("Vary", "Accept-Encoding")
	var body io.Writer = w
	var gz *gzip.Writer
	if acceptsGzip(r.Header) {
		w.Header().Set("Content-Encoding", "gzip")
		// The fastest level: a scrape of a large ledger is hundreds of
		// megabytes of very repetitive text, which it still shrinks
		// about twentyfold.
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		body = gz
	}
	sw := newSampleWriter(body)
	series.write(sw)
	writeBudgetStates(sw, budgets)
	err = sw.flush()
	if gz != nil {
		err = errors.Join(err, gz.Close())
	}
	if err != nil {
		// The scraper went away or timed out: nothing to answer any more.
		e.logger.Debug("Scrape of /metrics cut short", zap.Error(err))
	}
}

// exposedMonths returns the pinned months, or else the configured number of
// months up to the current one.
func (e *ledgerExporter) exposedMonths() []string {
	if len(e.cfg.PinnedMonths) > 0 {
		return e.cfg.PinnedMonths
	}
	return e.calendar.LastMonths(e.now(), e.cfg.Months)
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

// seriesOf reads the connections of rows and returns their series.
func seriesOf(ctx context.Context, store ledger.Store, rows []ledger.Row) (exposedSeries, error) {
	ids := make(map[ledger.ConnectionID]struct{})
	for i := range rows {
		ids[ledger.ConnectionID{Org: rows[i].Org, Connection: rows[i].Connection}] = struct{}{}
	}
	conns, err := store.ConnectionsOf(ctx, slices.Collect(maps.Keys(ids)))
	if err != nil {
		return exposedSeries{}, err
	}
	return newSeries(rows, conns), nil
}

// writeSeries writes the families of series to w.
func writeSeries(w io.Writer, series exposedSeries) error {
	sw := newSampleWriter(w)
	series.write(sw)
	return sw.flush()
}

// Names of the families that are not in rowFamilies.
const (
	tokensFamily   = "genai_connection_tokens_total"
	costFamily     = "genai_connection_cost_usd_total"
	lastSeenFamily = "genai_connection_last_seen_timestamp_seconds"
	infoFamily     = "genai_connection_info"
)

// tokenTypeLabels are the type labels of tokenTypes, escaped and ready to
// follow a row's labels.
var tokenTypeLabels = func() []string {
	out := make([]string, len(ledger.TokenTypes))
	for i, tt := range ledger.TokenTypes {
		out[i] = `,type="` + tt.Name + `"`
	}
	return out
}()

// write writes every family of s, each once with its HELP and TYPE lines.
func (s exposedSeries) write(sw *sampleWriter) {
	for _, f := range rowFamilies {
		sw.metadata(f.name, f.help, "counter")
		for i, r := range s.order {
			sw.uint(f.name, s.labels[i], "", f.value(&s.rows[r].Counters))
		}
	}

	sw.metadata(tokensFamily,
		"Tokens by type: input includes cache reads and writes, output includes reasoning.", "counter")
	for i, r := range s.order {
		for j, tt := range ledger.TokenTypes {
			sw.uint(tokensFamily, s.labels[i], tokenTypeLabels[j], tt.Value(&s.rows[r].Counters))
		}
	}

	sw.metadata(costFamily, "Cost in USD, a view of the exact amount in the ledger.", "counter")
	for i, r := range s.order {
		sw.float(costFamily, s.labels[i], s.rows[r].Cost.USD())
	}

	sw.metadata(lastSeenFamily, "Unix time of the connection's latest call.", "gauge")
	for i := range s.connections {
		sw.float(lastSeenFamily, s.connections[i].labels, float64(s.connections[i].info.LastSeen)/1e9)
	}

	sw.metadata(infoFamily, "Chargeback labels of the connection as of its latest call; always 1.", "gauge")
	for i := range s.connections {
		sw.uint(infoFamily, s.connections[i].labels, s.connections[i].infoLabels, 1)
	}
}

// exposedSeries are the label sets of one scrape with their values, sorted.
type exposedSeries struct {
	// rows[order[i]] is the i-th row series in label order, labels[i]
	// its labels, escaped.
	rows        []ledger.Row
	order       []int32
	labels      []string
	connections []connectionSeries
}

type connectionSeries struct {
	id     ledger.ConnectionID // label values, escaped
	labels string
	// infoLabels are the chargeback labels of genai_connection_info,
	// escaped, after labels.
	infoLabels string
	info       ledger.ConnectionInfo
}

// newSeries turns rows into series keyed by their escaped label values,
// each label value escaped once. It takes rows over: the series refer to
// them, and counters merged are added into them. Names that differ only in bytes that are
// not UTF-8 escape to the same labels; their counters are added so that no
// series appears twice. Only connections with a row among rows are listed;
// conns may hold others, which are left out.
func newSeries(rows []ledger.Row, conns []ledger.Connection) exposedSeries {
	keys := make([]ledger.Key, len(rows))
	order := make([]int32, len(rows))
	for i := range rows {
		r := &rows[i]
		keys[i] = ledger.Key{
			Org:        labelValue(r.Org),
			Connection: labelValue(r.Connection),
			Month:      labelValue(r.Month),
			Model:      labelValue(r.Model),
		}
		order[i] = int32(i)
	}
	// Sorting the indices moves 4 bytes per swap instead of a whole row.
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &keys[i], &keys[j]
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Month, b.Month))
	})

	// Equal keys are adjacent now: add each into the first of them, and
	// list each connection once, in the same order.
	s := exposedSeries{rows: rows, order: order[:0], labels: make([]string, 0, len(rows))}
	byID := make(map[ledger.ConnectionID]int)
	for _, i := range order {
		k := &keys[i]
		if n := len(s.order); n > 0 && keys[s.order[n-1]] == *k {
			rows[s.order[n-1]].Counters.Add(rows[i].Counters)
		} else {
			s.order = append(s.order, i)
			s.labels = append(s.labels, `org="`+k.Org+`",connection="`+k.Connection+
				`",model="`+k.Model+`",month="`+k.Month+`"`)
		}
		id := ledger.ConnectionID{Org: k.Org, Connection: k.Connection}
		if n := len(s.connections); n > 0 && s.connections[n-1].id == id {
			c := &s.connections[n-1]
			c.info = c.info.Merge(ledger.ConnectionInfo{LastSeen: rows[i].LastSeen})
			continue
		}
		byID[id] = len(s.connections)
		s.connections = append(s.connections, connectionSeries{
			id:     id,
			labels: `org="` + id.Org + `",connection="` + id.Connection + `"`,
			info:   ledger.ConnectionInfo{LastSeen: rows[i].LastSeen},
		})
	}
	for _, c := range conns {
		id := ledger.ConnectionID{Org: labelValue(c.Org), Connection: labelValue(c.Connection)}
		if i, ok := byID[id]; ok {
			s.connections[i].info = s.connections[i].info.Merge(c.ConnectionInfo)
		}
	}
	for i := range s.connections {
		c := &s.connections[i]
		c.infoLabels = `,team="` + labelValue(c.info.Team) + `",cost_center="` + labelValue(c.info.CostCenter) + `"`
	}
	return s
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labelValue escapes s for a quoted label value of the Prometheus text
// format: backslash, double quote and newline are escaped, and bytes that are
// not UTF-8 become U+FFFD, as the format allows only UTF-8. A value with
// nothing to escape is returned as it is, without a copy.
func labelValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") && utf8.ValidString(s) {
		return s
	}
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}
