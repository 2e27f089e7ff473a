package usageledgerexporter

import (
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptsGzip(t *testing.T) {
	f := func(want bool, values ...string) {
		t.Helper()
		h := http.Header{}
		for _, v := range values {
			h.Add("Accept-Encoding", v)
		}
		assert.Equal(t, want, acceptsGzip(h), "%q", values)
	}
	f(false)
	f(true, "gzip")
	f(true, "GZIP")
	f(true, "deflate, gzip;q=1.0, *;q=0.5") // what Prometheus sends
	f(true, "gzip;q=0.001")
	f(false, "gzip;q=0")
	f(false, "gzip; q=0.0")
	f(false, "gzip;q=x")
	f(false, "deflate, br")
	f(true, "br, *")
	f(false, "gzip;q=0, *") // gzip refused by name
	f(false, "*;q=0")
	f(false, "identity")
	f(true, "br", "gzip") // two header lines
}

// TestScrapeGzip checks that a scraper accepting gzip gets the same text
// compressed, and one that does not gets it plain.
func TestScrapeGzip(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)
	r.consume(t, tracesOf(t, span{nov10, call("acme", "bot/openai", "gpt-4o")}))
	get := func(encoding string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, "http://"+r.inner.addr+"/metrics", nil)
		require.NoError(t, err)
		// Set by hand, Go's transport leaves the body as it came.
		req.Header.Set("Accept-Encoding", encoding)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		return resp
	}
	resp := get("identity")
	assert.Empty(t, resp.Header.Get("Content-Encoding"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	plain := string(body)

	resp = get("gzip")
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	body, err = io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, plain, string(body))
	assert.Contains(t, plain, `genai_connection_requests_total{org="acme",connection="bot/openai",model="gpt-4o",month="2026-11"} 1`)
}
