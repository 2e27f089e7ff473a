package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The totals of one round, worked out by hand from the script. An answered
// call costs (input − cache read)·input price + cache read·cache read price
// + output·output price, in picodollars per token: $1 per million tokens is
// 1,000,000 pUSD per token, so gpt-4o-mini costs 150,000 / 75,000 / 600,000,
// text-embedding-3-small 20,000 (input only), and claude-sonnet-4-5
// 3,000,000 / 300,000 / 15,000,000. Blocked and rate-limited calls cost 0.
var oneRound = map[string]totals{
	// billing-agent: 5 calls, the 4th blocked; triage-bot: 3 calls, the 1st
	// rate-limited.
	// input:      1200 + 4000 + 2000 + 800 + 3000 + 1000 = 12000
	// output:     300 + 400 + 50 + 250 + 120             = 1120
	// cache read: 1500 + 2000                            = 3500
	// cost:
	//   1200·150,000 + 300·600,000                         =    360,000,000
	//   4000·20,000                                        =     80,000,000
	//   500·150,000 + 1500·75,000 + 400·600,000            =    427,500,000
	//   800·150,000 + 50·600,000                           =    150,000,000
	//   1000·3,000,000 + 2000·300,000 + 250·15,000,000     =  7,350,000,000
	//   1000·3,000,000 + 120·15,000,000                    =  4,800,000,000
	//   sum                                                = 13,167,500,000 ($0.0131675)
	"initech": {Requests: 8, Blocked: 1, RateLimited: 1,
		Input: 12000, Output: 1120, CacheRead: 3500, CostPicoUSD: 13_167_500_000},

	// research-agent: 4 calls, the 3rd blocked; claims-assistant: 4 calls,
	// the 2nd rate-limited and the 4th blocked.
	// input:      12000 + 8000 + 2500 + 900 + 900 = 24300
	// output:     900 + 400 + 150 + 150           = 1600
	// cache read: 6000 + 600                      = 6600
	// cost:
	//   12000·20,000                                       =    240,000,000
	//   2000·3,000,000 + 6000·300,000 + 900·15,000,000     = 21,300,000,000
	//   2500·3,000,000 + 400·15,000,000                    = 13,500,000,000
	//   900·150,000 + 150·600,000                          =    225,000,000
	//   300·150,000 + 600·75,000 + 150·600,000             =    180,000,000
	//   sum                                                = 35,445,000,000 ($0.035445)
	"umbrella": {Requests: 8, Blocked: 2, RateLimited: 1,
		Input: 24300, Output: 1600, CacheRead: 6600, CostPicoUSD: 35_445_000_000},
}

func TestSummaryOfOneRound(t *testing.T) {
	s := summarize(1)
	if !reflect.DeepEqual(s.Orgs, oneRound) {
		t.Fatalf("totals per org\n got %+v\nwant %+v", s.Orgs, oneRound)
	}

	// The rows add up to the organizations' totals.
	sums := make(map[string]totals)
	for _, r := range s.Rows {
		u := sums[r.Org]
		u.Requests += r.Requests
		u.Blocked += r.Blocked
		u.RateLimited += r.RateLimited
		u.Input += r.Input
		u.Output += r.Output
		u.CacheRead += r.CacheRead
		u.CostPicoUSD += r.CostPicoUSD
		sums[r.Org] = u
	}
	if !reflect.DeepEqual(sums, oneRound) {
		t.Fatalf("rows add up to\n got %+v\nwant %+v", sums, oneRound)
	}

	// research-agent's Claude calls: the streamed one above and
	// 2500·3,000,000 + 400·15,000,000 = 13,500,000,000; the blocked one is free.
	want := row{Org: "umbrella", Connection: "research-agent/anthropic", Model: claudeSonnet45,
		totals: totals{Requests: 3, Blocked: 1, Input: 10500, Output: 1300, CacheRead: 6000,
			CostPicoUSD: 21_300_000_000 + 13_500_000_000}}
	if !slices.Contains(s.Rows, want) {
		t.Fatalf("rows %+v\nhave no %+v", s.Rows, want)
	}
}

func TestSummaryGrowsWithRounds(t *testing.T) {
	s := summarize(3)
	for org, one := range oneRound {
		want := totals{Requests: 3 * one.Requests, Blocked: 3 * one.Blocked,
			RateLimited: 3 * one.RateLimited, Input: 3 * one.Input, Output: 3 * one.Output,
			CacheRead: 3 * one.CacheRead, CostPicoUSD: 3 * one.CostPicoUSD}
		if got := s.Orgs[org]; got != want {
			t.Errorf("%s after 3 rounds: got %+v, want %+v", org, got, want)
		}
	}
}

// keptSpans is an in-memory exporter that keeps its spans when an agent's
// tracer provider shuts it down, so all agents can share it.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

func playInMemory(t *testing.T, rounds int) tracetest.SpanStubs {
	t.Helper()
	spans := keptSpans{tracetest.NewInMemoryExporter()}
	err := play(context.Background(), rounds,
		func(context.Context) (sdktrace.SpanExporter, error) { return spans, nil })
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	return spans.GetSpans()
}

// TestSpansAddUpToSummary reads the sent spans the way the collector would
// and checks that they carry exactly the printed totals.
func TestSpansAddUpToSummary(t *testing.T) {
	before := time.Now()
	spans := playInMemory(t, 1)
	if len(spans) != len(script) {
		t.Fatalf("sent %d spans, want one per call: %d", len(spans), len(script))
	}

	got := make(map[string]totals)
	streamed := 0
	for _, s := range spans {
		res := attrMap(s.Resource.Attributes())
		attrs := attrMap(s.Attributes)
		org := res["tenant.id"].AsString()
		op, model := attrs[keyOperation].AsString(), attrs[keyRequestModel].AsString()

		if s.Name != op+" "+model || s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %q of kind %v, want %q of kind client", s.Name, s.SpanKind, op+" "+model)
		}
		if !s.StartTime.Before(s.EndTime) || s.EndTime.Before(before) {
			t.Errorf("span %q runs %v to %v, want it to end after %v", s.Name,
				s.StartTime, s.EndTime, before)
		}
		if attrs[keyProvider].AsString() != models[model].provider {
			t.Errorf("span %q: provider %q", s.Name, attrs[keyProvider].AsString())
		}
		if attrs[keyStream].AsBool() {
			streamed++
		}

		c := call{model: model, input: attrs[keyInputTokens].AsInt64(),
			output: attrs[keyOutputTokens].AsInt64(), cacheRead: attrs[keyCacheRead].AsInt64()}
		switch attrs["error.type"].AsString() {
		case "":
			if s.Status.Code != codes.Unset || len(s.Events) != 0 {
				t.Errorf("ok span %q: status %v, events %v", s.Name, s.Status, s.Events)
			}
			if op == chat && len(attrs[keyFinishReasons].AsStringSlice()) != 1 {
				t.Errorf("ok span %q: finish reasons %v", s.Name, attrs[keyFinishReasons])
			}
		case "BadRequestError":
			c.outcome = blocked
			checkFailed(t, s, attrs, "400 Request blocked by guardrail policy")
		case "RateLimitError":
			c.outcome = rateLimited
			checkFailed(t, s, attrs, "429 Rate limit exceeded")
		default:
			t.Errorf("span %q: error.type %q", s.Name, attrs["error.type"].AsString())
		}
		total := got[org]
		total.add(c)
		got[org] = total

		// Each agent reports under its own service name and organization.
		name := res["service.name"].AsString()
		if !slices.Contains(agents, agent{name: name, org: org}) {
			t.Errorf("span %q from unknown agent %q of %q", s.Name, name, org)
		}
	}

	if !reflect.DeepEqual(got, oneRound) {
		t.Errorf("spans add up to\n got %+v\nwant %+v", got, oneRound)
	}
	if streamed != 4 {
		t.Errorf("%d streamed calls, want 4", streamed)
	}
}

// checkFailed checks a call that never reached the model: an error status,
// an exception event and no usage.
func checkFailed(t *testing.T, s tracetest.SpanStub, attrs map[attribute.Key]attribute.Value,
	message string) {
	t.Helper()
	if s.Status.Code != codes.Error || s.Status.Description != message {
		t.Errorf("span %q: status %v, want error %q", s.Name, s.Status, message)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "exception" {
		t.Errorf("span %q: events %v, want one exception", s.Name, s.Events)
	}
	for k := range attrs {
		if strings.HasPrefix(string(k), "gen_ai.usage.") || k == keyResponseModel {
			t.Errorf("span %q of a failed call has %s", s.Name, k)
		}
	}
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// failingExporter stands for a collector that is not running.
type failingExporter struct{}

var errRefused = errors.New("connection refused")

func (failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errRefused
}

func (failingExporter) Shutdown(context.Context) error { return nil }

func TestPlayReportsFailedExport(t *testing.T) {
	err := play(context.Background(), 1,
		func(context.Context) (sdktrace.SpanExporter, error) { return failingExporter{}, nil })
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "billing-agent") {
		t.Fatalf("play: %v, want the first agent's export error", err)
	}
}

func TestPrint(t *testing.T) {
	var b strings.Builder
	summarize(1).print(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")

	f := func(first string, want ...string) {
		t.Helper()
		for _, l := range lines {
			fields := strings.Fields(l)
			if len(fields) > 1 && strings.Join(fields[:2], " ") == first {
				if !reflect.DeepEqual(fields[2:], want) {
					t.Errorf("%s: got %q, want %q", first, fields[2:], want)
				}
				return
			}
		}
		t.Errorf("no line %q in\n%s", first, b.String())
	}
	f("org connection", "model", "requests", "blocked", "rate_limited",
		"input", "output", "cache_read", "cost_usd")
	f("initech total", "8", "1", "1", "12000", "1120", "3500", "0.0131675")
	f("umbrella total", "8", "2", "1", "24300", "1600", "6600", "0.0354450")
	f("initech billing-agent/openai", "gpt-4o-mini", "4", "1", "0", "4000", "750", "1500",
		"0.0009375")
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.json")
	want := summarize(2)
	if err := want.writeJSON(path); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got summary
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
	for _, field := range []string{`"org": "initech"`, `"connection": "triage-bot/anthropic"`,
		`"rate_limited": 2`, `"cost_picousd": 26335000000`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("no %s in\n%s", field, b)
		}
	}
}

func TestUSD(t *testing.T) {
	f := func(pico int64, decimals int, want string) {
		t.Helper()
		if got := usd(pico, decimals); got != want {
			t.Errorf("usd(%d, %d) = %q, want %q", pico, decimals, got, want)
		}
		if got := usdDecimals(pico); got > decimals {
			t.Errorf("usdDecimals(%d) = %d, more than the %d of %q", pico, got, decimals, want)
		}
	}
	f(0, 2, "0.00")
	f(13_167_500_000, 7, "0.0131675")
	f(13_167_500_000, 9, "0.013167500")
	f(320_000, 8, "0.00000032")
	f(1, 12, "0.000000000001")
	f(2_500_000_000_000, 2, "2.50")
}
