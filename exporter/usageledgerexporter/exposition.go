package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/textblocks"
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
	var packed *bufio.Writer
	if acceptsGzip(r.Header) {
		w.Header().Set("Content-Encoding", "gzip")
		// The compressor hands its output over a few hundred bytes at a
		// time (245 on average in TestScrapeMatchesReferenceOverLedger);
		// gathered, it goes to the connection in one write per
		// compressedBufferSize.
		packed = bufio.NewWriterSize(w, compressedBufferSize)
		// The fastest level: a scrape of a large ledger is hundreds of
		// megabytes of very repetitive text, which it still shrinks
		// about twentyfold. klauspost/compress writes the same format as
		// compress/gzip at about twice its speed at this level, which is
		// most of the time a large compressed scrape takes.
		gz, _ = gzip.NewWriterLevel(packed, gzip.BestSpeed)
		body = gz
	}
	sw := newSampleWriter(body)
	series.write(sw)
	writeBudgetStates(sw, budgets)
	err = sw.flush()
	if gz != nil {
		err = errors.Join(err, gz.Close())
		err = errors.Join(err, packed.Flush())
	}
	if err != nil {
		// The scraper went away or timed out: nothing to answer any more.
		e.logger.Debug("Scrape of /metrics cut short", zap.Error(err))
	}
	if len(series.rows) >= largeScrapeRows {
		// The scrape's rows, labels and buffers are garbage once the
		// answer is out. Left to the garbage collector, the heap grows to
		// twice what was live at its last cycle, which a cycle during a
		// scrape makes twice the scrape's size, and the process keeps
		// that memory; collected and returned, the collector's resident
		// memory falls back to what the ledger and the pipelines hold
		// between scrapes. It runs after the handler returns, so that the
		// end of the answer does not wait for it. Below this size a
		// scrape is too small to matter.
		go returnMemory()
	}
}

// compressedBufferSize is how much compressed text a scrape gathers before
// writing it to the connection.
const compressedBufferSize = 64 << 10

// largeScrapeRows is the number of row series from which a scrape returns
// its memory at once: about 14 MiB of text and 7 MiB of heap.
const largeScrapeRows = 10_000

// returning is set while returnMemory runs, so that scrapes that end
// together start one collection, not one each.
var returning atomic.Bool

// returnMemory collects the garbage and returns the freed memory to the
// operating system: a full collection, tens of milliseconds for a heap of
// a hundred megabytes.
func returnMemory() {
	if !returning.CompareAndSwap(false, true) {
		return
	}
	defer returning.Store(false)
	debug.FreeOSMemory()
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

// seriesOf reads the connections of rows and returns their series. It
// takes rows over, as [newSeries] does.
func seriesOf(ctx context.Context, store ledger.Store, rows []ledger.Row) (exposedSeries, error) {
	s, ids := groupRows(rows)
	conns, err := store.ConnectionsOf(ctx, ids)
	if err != nil {
		return exposedSeries{}, err
	}
	s.addConnections(conns)
	return s, nil
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
		for i := range s.labels {
			sw.uint(f.name, s.labels[i], "", f.value(&s.rows[i].Counters))
		}
	}

	sw.metadata(tokensFamily,
		"Tokens by type: input includes cache reads and writes, output includes reasoning.", "counter")
	for i := range s.labels {
		for j, tt := range ledger.TokenTypes {
			sw.uint(tokensFamily, s.labels[i], tokenTypeLabels[j], tt.Value(&s.rows[i].Counters))
		}
	}

	sw.metadata(costFamily, "Cost in USD, a view of the exact amount in the ledger.", "counter")
	for i := range s.labels {
		sw.float(costFamily, s.labels[i], s.rows[i].Cost.USD())
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
	// labels[i] are the labels of the i-th row series in label order,
	// escaped, and rows[i] its row. They are in the order they are
	// written, so that writing a family reads memory straight through.
	labels      []string
	rows        []ledger.Row
	connections []connectionSeries
}

type connectionSeries struct {
	id ledger.ConnectionID // label values, escaped
	// labels are those of id, the start of the labels of its first row.
	labels string
	// infoLabels are the chargeback labels of genai_connection_info,
	// escaped, after labels.
	infoLabels string
	info       ledger.ConnectionInfo
}

// newSeries turns rows into series keyed by their escaped label values,
// each label value escaped once. It takes rows over: their keys are
// escaped in place, and they are sorted and merged into the series. Names
// that differ only in bytes that are not UTF-8 escape to the same labels;
// their counters are added so that no series appears twice. Only
// connections with a row among rows are listed; conns may hold others,
// which are left out.
func newSeries(rows []ledger.Row, conns []ledger.Connection) exposedSeries {
	s, _ := groupRows(rows)
	s.addConnections(conns)
	return s
}

// labelBlockSize is the size of the blocks label sets are built in: a few
// hundred rows each.
const labelBlockSize = 64 << 10

// groupRows is the first half of [newSeries]: the row series, and the
// connections with the times of their rows but no chargeback labels yet.
// It returns the connections to read those labels from, as the ledger
// names them: those with a row among rows, mostly once each.
func groupRows(rows []ledger.Row) (exposedSeries, []ledger.ConnectionID) {
	renamed := escapeKeys(rows)
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	// A ledger hands its rows out in sorted runs: its keys order names by
	// length first, so a month is one run where names are as long as each
	// other (zero-padded numbers, say) and a few more otherwise; sortRuns
	// merges the runs in a few passes. Sorting the indices moves 4 bytes
	// at a time instead of a whole row.
	sortRuns(order, func(i, j int32) int { return compareKeys(&rows[i].Key, &rows[j].Key) })
	if renamed != nil {
		renamed = renumber(renamed, order)
	}
	permute(rows, order)

	// Equal keys are adjacent now: add each into the first of them, and
	// list each connection once, in the same order.
	s := exposedSeries{
		labels:      make([]string, 0, len(rows)),
		connections: make([]connectionSeries, 0, countConnections(rows)),
	}
	text := textblocks.New(labelBlockSize)
	ids := make([]ledger.ConnectionID, 0, cap(s.connections)+len(renamed))
	kept := 0
	for i := range rows {
		r := &rows[i]
		id := ledger.ConnectionID{Org: r.Org, Connection: r.Connection}
		// Rows of a connection are adjacent, and so are rows of names that
		// escape alike, mostly one name after the other.
		name, ok := renamed[int32(i)]
		if !ok {
			name = id
		}
		if len(ids) == 0 || ids[len(ids)-1] != name {
			ids = append(ids, name)
		}
		last := len(s.connections) - 1
		listed := last >= 0 && s.connections[last].id == id
		if listed {
			c := &s.connections[last]
			c.info.LastSeen = max(c.info.LastSeen, r.LastSeen)
			if rows[kept-1].Key == r.Key {
				rows[kept-1].Counters.Add(r.Counters)
				continue
			}
		}
		rows[kept] = *r
		kept++
		labels := text.Join(`org="`, r.Org, `",connection="`, r.Connection,
			`",model="`, r.Model, `",month="`, r.Month, `"`)
		s.labels = append(s.labels, labels)
		if !listed {
			// The labels of a connection are the start of those of its rows.
			s.connections = append(s.connections, connectionSeries{
				id:     id,
				labels: labels[:len(`org="",connection=""`)+len(id.Org)+len(id.Connection)],
				info:   ledger.ConnectionInfo{LastSeen: r.LastSeen},
			})
		}
	}
	s.rows = rows[:kept]
	return s, ids
}

// permute moves rows[order[j]] to rows[j] for every j, in place, so that
// the rows are in the order order sorts them in without a second slice of
// them. It follows each cycle of the permutation, moving each row once,
// and marks the rows moved by setting order[j] = j.
func permute(rows []ledger.Row, order []int32) {
	for i := range order {
		if order[i] == int32(i) {
			continue
		}
		held := rows[i]
		j := i
		for {
			k := int(order[j])
			order[j] = int32(j)
			if k == i {
				rows[j] = held
				break
			}
			rows[j] = rows[k]
			j = k
		}
	}
}

// renumber returns renamed, whose keys are indices of rows, with the
// indices the rows have once sorted by order.
func renumber(renamed map[int32]ledger.ConnectionID, order []int32) map[int32]ledger.ConnectionID {
	out := make(map[int32]ledger.ConnectionID, len(renamed))
	for j, i := range order {
		if id, ok := renamed[i]; ok {
			out[int32(j)] = id
		}
	}
	return out
}

// escapeKeys escapes the label values of the keys of rows in place. For
// each row whose organization or connection name escaping changed, it
// returns the name as the ledger has it, by row index; nil when escaping
// changed none, as for most ledgers.
func escapeKeys(rows []ledger.Row) map[int32]ledger.ConnectionID {
	var renamed map[int32]ledger.ConnectionID
	for i := range rows {
		k := &rows[i].Key
		org, conn := labelValue(k.Org), labelValue(k.Connection)
		if org != k.Org || conn != k.Connection {
			if renamed == nil {
				renamed = make(map[int32]ledger.ConnectionID)
			}
			renamed[int32(i)] = ledger.ConnectionID{Org: k.Org, Connection: k.Connection}
		}
		k.Org, k.Connection = org, conn
		k.Month, k.Model = labelValue(k.Month), labelValue(k.Model)
	}
	return renamed
}

// countConnections returns the number of connections of rows, which are
// sorted.
func countConnections(rows []ledger.Row) int {
	n := 0
	for i := range rows {
		if i == 0 || !sameConnection(&rows[i-1].Key, &rows[i].Key) {
			n++
		}
	}
	return n
}

// sameConnection reports whether a and b are keys of the same connection.
func sameConnection(a, b *ledger.Key) bool {
	return a.Org == b.Org && a.Connection == b.Connection
}

// addConnections merges the info of conns into the connections of s that
// they escape to, in the order of conns, and writes their chargeback labels.
func (s *exposedSeries) addConnections(conns []ledger.Connection) {
	next := 0
	for i := range conns {
		c := &conns[i]
		id := ledger.ConnectionID{Org: labelValue(c.Org), Connection: labelValue(c.Connection)}
		at, ok := s.find(id, next)
		if !ok {
			continue
		}
		s.connections[at].info = s.connections[at].info.Merge(c.ConnectionInfo)
		next = at + 1
	}
	text := textblocks.New(labelBlockSize)
	for i := range s.connections {
		c := &s.connections[i]
		c.infoLabels = text.Join(`,team="`, labelValue(c.info.Team), `",cost_center="`, labelValue(c.info.CostCenter), `"`)
	}
}

// find returns the index of the connection id. It looks at the hint first:
// a ledger lists the connections of an organization in the order of their
// series, so a lookup after a hit mostly finds the next one.
func (s *exposedSeries) find(id ledger.ConnectionID, hint int) (int, bool) {
	if hint < len(s.connections) && s.connections[hint].id == id {
		return hint, true
	}
	return slices.BinarySearchFunc(s.connections, id, func(c connectionSeries, id ledger.ConnectionID) int {
		return compareIDs(c.id, id)
	})
}

// compareKeys orders row series by organization, connection, model and
// month.
func compareKeys(a, b *ledger.Key) int {
	if c := compareIDs(ledger.ConnectionID{Org: a.Org, Connection: a.Connection},
		ledger.ConnectionID{Org: b.Org, Connection: b.Connection}); c != 0 {
		return c
	}
	if c := strings.Compare(a.Model, b.Model); c != 0 {
		return c
	}
	return strings.Compare(a.Month, b.Month)
}

// compareIDs orders connections by organization and connection.
func compareIDs(a, b ledger.ConnectionID) int {
	if c := strings.Compare(a.Org, b.Org); c != 0 {
		return c
	}
	return strings.Compare(a.Connection, b.Connection)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labelValue escapes s for a quoted label value of the Prometheus text
// format: backslash, double quote and newline are escaped, and bytes that are
// not UTF-8 become U+FFFD, as the format allows only UTF-8. A value with
// nothing to escape is returned as it is, without a copy.
func labelValue(s string) string {
	if plainASCII(s) || !strings.ContainsAny(s, "\\\"\n") && utf8.ValidString(s) {
		return s
	}
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// plainASCII reports whether s is ASCII with nothing to escape, as most
// names are: one look at each byte, where the general check takes two
// passes.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\\' || c == '"' || c == '\n' {
			return false
		}
	}
	return true
}
