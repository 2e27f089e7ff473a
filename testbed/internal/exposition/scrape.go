// Package exposition scrapes a Prometheus text endpoint, reads ledger rows
// out of it and compares them with the totals the load generator expects.
package exposition // import "github.com/usageledger/usageledger/testbed/internal/exposition"

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/usageledger/usageledger/testbed/internal/load"
)

// Scrape is one parsed read of a /metrics endpoint.
type Scrape struct {
	Families map[string]*dto.MetricFamily
	// Bytes is the size of the text, Sent the size of the body as the
	// endpoint sent it (compressed or not).
	Bytes, Sent int
	// Took is the time from sending the request to having received the
	// whole body as sent (see [Fetch]); decompressing and parsing come
	// after it.
	Took time.Duration
}

// Get reads and parses url. A body that does not parse as Prometheus text
// is an error.
func Get(url string, timeout time.Duration) (Scrape, error) {
	f, err := Fetch(url, timeout)
	if err != nil {
		return Scrape{}, err
	}
	body, err := f.Text()
	if err != nil {
		return Scrape{}, fmt.Errorf("exposition: %s: %w", url, err)
	}
	s, err := Parse(body)
	if err != nil {
		return Scrape{}, fmt.Errorf("exposition: %s: %w", url, err)
	}
	s.Sent, s.Took = len(f.Body), f.Took
	return s, nil
}

// Parse reads the Prometheus text of one scrape.
func Parse(text []byte) (Scrape, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return Scrape{}, fmt.Errorf("not valid Prometheus text: %w", err)
	}
	return Scrape{Families: families, Bytes: len(text)}, nil
}

// Fetched is a body read from a /metrics endpoint as it was sent.
type Fetched struct {
	Body    []byte
	Gzipped bool
	// Took is the time from sending the request to having received the
	// whole body.
	Took time.Duration
}

// Fetch reads url, asking for a gzip-compressed body as Prometheus does,
// and keeps the body as sent: the time is the endpoint's, not that of
// decompressing or parsing the text.
func Fetch(url string, timeout time.Duration) (Fetched, error) {
	client := http.Client{Timeout: timeout}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return Fetched{}, fmt.Errorf("exposition: %w", err)
	}
	// Set by hand, the header keeps the transport from decompressing the
	// body while it is read.
	req.Header.Set("Accept-Encoding", "gzip")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Fetched{}, fmt.Errorf("exposition: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return Fetched{}, fmt.Errorf("exposition: reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Fetched{}, fmt.Errorf("exposition: %s answered %s", url, resp.Status)
	}
	return Fetched{Body: body, Gzipped: resp.Header.Get("Content-Encoding") == "gzip", Took: took}, nil
}

// Text returns the body decompressed.
func (f Fetched) Text() ([]byte, error) {
	if !f.Gzipped {
		return f.Body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(f.Body))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return text, nil
}

// Series counts the samples of the families whose name starts with prefix.
func (s Scrape) Series(prefix string) int {
	n := 0
	for name, f := range s.Families {
		if len(name) >= len(prefix) && name[:len(prefix)] == prefix {
			n += len(f.GetMetric())
		}
	}
	return n
}

// Schema says where a pipeline puts the parts of a ledger row.
type Schema struct {
	// Label names of the row key; an empty Month means the exposition has no
	// month and every row is booked to NoMonth.
	Org, Connection, Model, Month string
	NoMonth                       string
	// Metric names; an empty name is a counter the pipeline does not have.
	Requests, Blocked, RateLimited, Errors string
	// Tokens is one metric with a type label (Input/Output are its values);
	// when TokenType is empty, Input and Output are separate metric names.
	Tokens, TokenType, Input, Output string
	// Cost is in USD.
	Cost string
}

// Ledger is the exposition of the usageledger exporter.
var Ledger = Schema{
	Org: "org", Connection: "connection", Model: "model", Month: "month",
	Requests:    "genai_connection_requests_total",
	Blocked:     "genai_connection_blocked_total",
	RateLimited: "genai_connection_rate_limited_total",
	Errors:      "genai_connection_errors_total",
	Tokens:      "genai_connection_tokens_total", TokenType: "type", Input: "input", Output: "output",
	Cost: "genai_connection_cost_usd_total",
}

// Rows reads the counters of every row the exposition holds. Tokens of
// other types than input and output are returned in other, keyed by type,
// so a caller can insist they are zero.
func (s Scrape) Rows(schema Schema) (rows load.Totals, other map[string]float64) {
	rows = load.Totals{}
	other = map[string]float64{}
	row := func(m *dto.Metric) *load.Counters {
		l := labels(m)
		k := load.Key{Org: l[schema.Org], Connection: l[schema.Connection], Model: l[schema.Model], Month: schema.NoMonth}
		if schema.Month != "" {
			k.Month = l[schema.Month]
		}
		c, ok := rows[k]
		if !ok {
			c = &load.Counters{}
			rows[k] = c
		}
		return c
	}
	each := func(name string, f func(m *dto.Metric, v float64)) {
		if name == "" {
			return
		}
		for _, m := range s.Families[name].GetMetric() {
			f(m, value(m))
		}
	}
	whole := func(v float64) int64 { return int64(math.Round(v)) }
	each(schema.Requests, func(m *dto.Metric, v float64) { row(m).Requests += whole(v) })
	each(schema.Blocked, func(m *dto.Metric, v float64) { row(m).Blocked += whole(v) })
	each(schema.RateLimited, func(m *dto.Metric, v float64) { row(m).RateLimited += whole(v) })
	each(schema.Errors, func(m *dto.Metric, v float64) { row(m).Errors += whole(v) })
	each(schema.Cost, func(m *dto.Metric, v float64) { row(m).CostPicoUSD += int64(math.Round(v * 1e12)) })
	if schema.TokenType != "" {
		each(schema.Tokens, func(m *dto.Metric, v float64) {
			switch t := labels(m)[schema.TokenType]; t {
			case schema.Input:
				row(m).Input += whole(v)
			case schema.Output:
				row(m).Output += whole(v)
			default:
				other[t] += v
			}
		})
	} else {
		each(schema.Input, func(m *dto.Metric, v float64) { row(m).Input += whole(v) })
		each(schema.Output, func(m *dto.Metric, v float64) { row(m).Output += whole(v) })
	}
	return rows, other
}

func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// Total adds the values of every series of the family name, and reports
// whether the exposition has that family at all.
func (s Scrape) Total(name string) (float64, bool) {
	f, ok := s.Families[name]
	if !ok {
		return 0, false
	}
	var sum float64
	for _, m := range f.GetMetric() {
		sum += value(m)
	}
	return sum, true
}
