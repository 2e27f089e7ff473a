package usageledgerexporter

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/VictoriaMetrics/metrics"

	"github.com/usageledger/usageledger/internal/ledger"
)

// referenceExposition writes rows and conns the plain way: series in maps,
// every sample line through the VictoriaMetrics/metrics writers. The
// streamed exposition must produce exactly these bytes.
func referenceExposition(w io.Writer, rows []ledger.Row, conns []ledger.Connection) {
	type conn struct {
		labels string
		info   ledger.ConnectionInfo
	}
	byKey := make(map[ledger.Key]ledger.Counters)
	byID := make(map[ledger.ConnectionID]ledger.ConnectionInfo)
	for _, r := range rows {
		k := ledger.Key{Org: labelValue(r.Org), Connection: labelValue(r.Connection),
			Month: labelValue(r.Month), Model: labelValue(r.Model)}
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
	keys := slices.SortedFunc(func(yield func(ledger.Key) bool) {
		for k := range byKey {
			if !yield(k) {
				return
			}
		}
	}, func(a, b ledger.Key) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Month, b.Month))
	})
	labels := func(k ledger.Key) string {
		return `org="` + k.Org + `",connection="` + k.Connection + `",model="` + k.Model + `",month="` + k.Month + `"`
	}
	var ids []ledger.ConnectionID
	for id := range byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ledger.ConnectionID) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Connection, b.Connection))
	})
	meta := func(name, help, typ string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}

	for _, f := range rowFamilies {
		meta(f.name, f.help, "counter")
		for _, k := range keys {
			c := byKey[k]
			metrics.WriteCounterUint64(w, f.name+"{"+labels(k)+"}", f.value(&c))
		}
	}
	meta(tokensFamily, "Tokens by type: input includes cache reads and writes, output includes reasoning.", "counter")
	for _, k := range keys {
		c := byKey[k]
		for _, tt := range ledger.TokenTypes {
			metrics.WriteCounterUint64(w, tokensFamily+"{"+labels(k)+`,type="`+tt.Name+`"}`, tt.Value(&c))
		}
	}
	meta(costFamily, "Cost in USD, a view of the exact amount in the ledger.", "counter")
	for _, k := range keys {
		metrics.WriteCounterFloat64(w, costFamily+"{"+labels(k)+"}", byKey[k].Cost.USD())
	}
	idLabels := func(id ledger.ConnectionID) string {
		return `org="` + id.Org + `",connection="` + id.Connection + `"`
	}
	meta(lastSeenFamily, "Unix time of the connection's latest call.", "gauge")
	for _, id := range ids {
		metrics.WriteGaugeFloat64(w, lastSeenFamily+"{"+idLabels(id)+"}", float64(byID[id].LastSeen)/1e9)
	}
	meta(infoFamily, "Chargeback labels of the connection as of its latest call; always 1.", "gauge")
	for _, id := range ids {
		info := byID[id]
		metrics.WriteGaugeUint64(w, infoFamily+"{"+idLabels(id)+`,team="`+labelValue(info.Team)+
			`",cost_center="`+labelValue(info.CostCenter)+`"}`, 1)
	}
}

// hostileNames are names that test the escaping: quotes, backslashes,
// newlines, bytes that are not UTF-8 (two of which read the same), text
// that looks like the format itself, and the reserved overflow name.
var hostileNames = []string{
	"acme", "", `say "hi"`, `C:\bots\`, "line\nbreak", "tab\there", "org\xff", "org\xfe",
	"} 1\n# HELP x", `\"`, "日本", "\u2028", "\r\n\x00", overflow, "a,b=\"c\"", "acme ",
}

// TestStreamedExpositionMatchesVictoriaMetricsWriters writes 4,000 random
// rows over hostile and ordinary names both ways and expects the same bytes.
func TestStreamedExpositionMatchesVictoriaMetricsWriters(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func(prefix string) string {
		if rng.IntN(3) == 0 {
			return hostileNames[rng.IntN(len(hostileNames))]
		}
		return fmt.Sprintf("%s-%d", prefix, rng.IntN(40))
	}
	count := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return math.MaxUint64 - rng.Uint64N(3)
		default:
			return rng.Uint64() >> rng.IntN(64)
		}
	}
	months := []string{"2026-10", "2026-11"}
	var rows []ledger.Row
	var conns []ledger.Connection
	for range 4000 {
		org, conn := name("org"), name("connection")
		rows = append(rows, ledger.Row{
			Key: ledger.Key{Org: org, Connection: conn, Month: months[rng.IntN(2)], Model: name("model")},
			Counters: ledger.Counters{
				Requests: count(), Blocked: count(), RateLimited: count(), Errors: count(), Filtered: count(),
				InputTokens: count(), OutputTokens: count(), CacheReadTokens: count(),
				CacheWriteTokens: count(), ReasoningTokens: count(), Unpriced: count(), UsageMissing: count(),
				Cost:     ledger.Amount{Hi: rng.Uint64N(3), Lo: count()},
				LastSeen: rng.Int64N(2e18),
			},
		})
		if rng.IntN(2) == 0 {
			conns = append(conns, ledger.Connection{
				ConnectionID:   ledger.ConnectionID{Org: org, Connection: conn},
				ConnectionInfo: ledger.CallInfo(name("team"), name("cc"), rng.Int64N(2e18)),
			})
		}
	}
	// A connection no row names is left out by both.
	conns = append(conns, ledger.Connection{ConnectionID: ledger.ConnectionID{Org: "idle", Connection: "old"}})

	var want, got bytes.Buffer
	referenceExposition(&want, rows, conns)
	if err := writeSeries(&got, newSeries(rows, conns)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), got.Bytes()) {
		w, g := bytes.Split(want.Bytes(), []byte("\n")), bytes.Split(got.Bytes(), []byte("\n"))
		for i := range min(len(w), len(g)) {
			if !bytes.Equal(w[i], g[i]) {
				t.Fatalf("line %d differs:\nwant %q\ngot  %q", i+1, w[i], g[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(g), len(w))
	}
	if bytes.Contains(got.Bytes(), []byte(`org="idle"`)) {
		t.Fatal("a connection without rows is exposed")
	}
}

// TestSampleWriterFloats checks the float form against the VictoriaMetrics
// writer for values whose %g form is easy to get wrong.
func TestSampleWriterFloats(t *testing.T) {
	f := func(v float64) {
		t.Helper()
		var want, got bytes.Buffer
		metrics.WriteGaugeFloat64(&want, `x{a="b"}`, v)
		sw := newSampleWriter(&got)
		sw.float("x", `a="b"`, v)
		if err := sw.flush(); err != nil {
			t.Fatal(err)
		}
		if want.String() != got.String() {
			t.Fatalf("%v: got %q; want %q", v, got.String(), want.String())
		}
	}
	f(0)
	f(math.Copysign(0, -1))
	f(3.6e-05)
	f(1.79430306e+09)
	f(1e21)
	f(123456789012345678)
	f(0.1 + 0.2)
	f(math.MaxFloat64)
	f(math.SmallestNonzeroFloat64)
	f(math.Inf(1))
	f(math.Inf(-1))
	f(math.NaN())
}
