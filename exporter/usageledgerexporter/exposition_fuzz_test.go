package usageledgerexporter

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/usageledger/usageledger/internal/ledger"
)

// FuzzExpositionLabels writes one row and its connection with arbitrary
// names and labels, and checks that the Prometheus text parser reads the
// whole exposition back with every label value as it was, bytes that are
// not UTF-8 read as U+FFFD.
func FuzzExpositionLabels(f *testing.F) {
	f.Add("acme", "support-bot/openai", "gpt-4o", "support", "cc-42")
	f.Add(`say "hi"`, `C:\bots\`, "line\nbreak", "tab\there", `{a="1",b}`)
	f.Add("org\xff", "\xfe", "", "\\n", "\r\n\x00")
	f.Add("# HELP x", "} 1\nfoo", `\"`, "日本", "\u2028")
	f.Fuzz(func(t *testing.T, org, conn, model_, team, costCenter string) {
		row := ledger.Row{
			Key:      ledger.Key{Org: org, Connection: conn, Month: "2026-11", Model: model_},
			Counters: ledger.Counters{Requests: 3, InputTokens: 7, Cost: ledger.PicoUSD(36_000_000), LastSeen: 1e18},
		}
		c := ledger.Connection{
			ConnectionID:   ledger.ConnectionID{Org: org, Connection: conn},
			ConnectionInfo: ledger.CallInfo(team, costCenter, 1e18),
		}
		var buf bytes.Buffer
		writeSeries(&buf, newSeries([]ledger.Row{row}, []ledger.Connection{c}))

		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("exposition does not parse: %v\n%s", err, buf.String())
		}
		want := map[string]string{
			"org": valid(org), "connection": valid(conn), "model": valid(model_), "month": "2026-11",
			"team": valid(team), "cost_center": valid(costCenter),
		}
		// 7 row families + tokens + cost + last seen + info.
		if len(families) != len(rowFamilies)+4 {
			t.Fatalf("%d families, want %d", len(families), len(rowFamilies)+4)
		}
		for name, fam := range families {
			wantSeries := 1
			if name == "genai_connection_tokens_total" {
				wantSeries = len(ledger.TokenTypes)
			}
			if len(fam.GetMetric()) != wantSeries {
				t.Fatalf("%s has %d series, want %d", name, len(fam.GetMetric()), wantSeries)
			}
			for _, m := range fam.GetMetric() {
				for _, l := range m.GetLabel() {
					if w, ok := want[l.GetName()]; ok && l.GetValue() != w {
						t.Fatalf("%s label %s = %q, want %q", name, l.GetName(), l.GetValue(), w)
					}
				}
			}
		}
		if got := families["genai_connection_requests_total"].GetMetric()[0].GetCounter().GetValue(); got != 3 {
			t.Fatalf("requests = %v, want 3", got)
		}
	})
}

func valid(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
