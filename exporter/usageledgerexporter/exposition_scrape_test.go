package usageledgerexporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
	"github.com/usageledger/usageledger/internal/ledger"
)

// TestScrapeMatchesReferenceOverLedger commits rows over hostile and
// ordinary names to a ledger file, in the two exposed months and one that
// is not, and expects GET /metrics to answer exactly what the reference
// writer makes of the ledger's rows and connections, followed by the
// budgets as writeBudgets writes them; gzip-compressed, the same text.
// Unlike the reference test, the rows come in the ledger's own order.
func TestScrapeMatchesReferenceOverLedger(t *testing.T) {
	months := []string{"2026-10", "2026-11"}
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "usage-ledger.db")
	cfg.PinnedMonths = months
	cfg.Budgets = BudgetsConfig{
		Organizations: []OrganizationBudget{{Org: "org-3", MonthlyUSD: "500"}, {Org: `say "hi"`, MonthlyUSD: "1"}},
		Connections:   []ConnectionBudget{{Org: "org\xff", Connection: "conn-1", MonthlyUSD: "50"}},
	}
	require.NoError(t, cfg.Budgets.Check())
	store, err := ledger.Open(cfg.Path)
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()

	// Besides the hostile names, names that others escape to: a row of
	// "org\xff" is exposed as org "org\uFFFD", which is also a name of its
	// own, and so is `a\"b`, what `a"b` escapes to.
	names := append(slices.Clone(hostileNames), "org\uFFFD", `a"b`, `a\"b`)
	rng := rand.New(rand.NewPCG(3, 4))
	name := func(prefix string) string {
		if rng.IntN(4) == 0 {
			return names[rng.IntN(len(names))]
		}
		// Names of several lengths, which the ledger orders by length.
		return fmt.Sprintf("%s-%d", prefix, rng.IntN(120))
	}
	b := ledger.NewBatch()
	for i := range 3000 {
		org, conn := name("org"), name("conn")
		month := []string{"2026-09", "2026-10", "2026-11"}[rng.IntN(3)]
		seen := nov10.Add(time.Duration(i) * time.Second).UnixNano()
		b.Add(ledger.Key{Org: org, Connection: conn, Month: month, Model: name("model")}, ledger.Counters{
			Requests: rng.Uint64N(1000), Blocked: rng.Uint64N(3), InputTokens: rng.Uint64(),
			Cost: ledger.PicoUSD(rng.Uint64N(1 << 50)), FirstSeen: seen, LastSeen: seen,
		})
		if rng.IntN(3) > 0 {
			b.SetConnection(ledger.ConnectionID{Org: org, Connection: conn},
				ledger.CallInfo(name("team"), name("cc"), seen))
		}
	}
	_, err = store.Commit(context.Background(), b)
	require.NoError(t, err)

	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	e, err := newLedgerExporter(cfg, metadatatest.NewSettings(tel))
	require.NoError(t, err)
	e.now = func() time.Time { return arrival }
	e.store = store

	rows, err := store.Rows(context.Background(), months)
	require.NoError(t, err)
	// The connections with a row in the exposed months: another that
	// escapes to the same labels is not one of them.
	ids := make(map[ledger.ConnectionID]struct{})
	for _, r := range rows {
		ids[ledger.ConnectionID{Org: r.Org, Connection: r.Connection}] = struct{}{}
	}
	conns, err := store.ConnectionsOf(context.Background(), slices.Collect(maps.Keys(ids)))
	require.NoError(t, err)
	var want bytes.Buffer
	referenceExposition(&want, rows, conns)
	require.NoError(t, writeBudgets(context.Background(), &want, store, &cfg.Budgets, e.calendar, arrival))
	require.Contains(t, want.String(), `genai_budget_spend_usd{org="org`+"\uFFFD"+`",connection="conn-1",month="2026-11"}`)

	scrape := func(encoding string) *writeCounter {
		req := httptest.NewRequest(http.MethodGet, metricsPath, nil)
		req.Header.Set("Accept-Encoding", encoding)
		rec := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
		e.serveMetrics(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return rec
	}
	plain := scrape("identity")
	assert.LessOrEqual(t, plain.writes, plain.Body.Len()/(sampleBufferSize-lineRoom)+1,
		"writes of %d bytes to the connection", plain.Body.Len())
	assert.Empty(t, plain.Header().Get("Content-Encoding"))
	if got := plain.Body.Bytes(); !bytes.Equal(want.Bytes(), got) {
		w, g := bytes.Split(want.Bytes(), []byte("\n")), bytes.Split(got, []byte("\n"))
		for i := range min(len(w), len(g)) {
			require.Equal(t, string(w[i]), string(g[i]), "line %d", i+1)
		}
		t.Fatalf("%d lines, want %d", len(g), len(w))
	}

	compressed := scrape("gzip")
	sent := compressed.Body.Len()
	assert.Equal(t, "gzip", compressed.Header().Get("Content-Encoding"))
	zr, err := gzip.NewReader(compressed.Body)
	require.NoError(t, err)
	text, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want.Bytes(), text), "gzip answer decodes to other text")
	assert.Less(t, sent, len(text)/4)
	assert.LessOrEqual(t, compressed.writes, sent/compressedBufferSize+1,
		"writes of %d compressed bytes to the connection", sent)
}

// writeCounter counts the writes a handler makes to its connection.
type writeCounter struct {
	*httptest.ResponseRecorder
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.ResponseRecorder.Write(p)
}
