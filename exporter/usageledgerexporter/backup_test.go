package usageledgerexporter

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

func TestBackupEndpoint(t *testing.T) {
	r := start(t, testConfig(t))
	r.consume(t, tracesOf(t, span{nov10, priced(10)}, span{nov10, priced(20)}))

	resp, err := http.Get("http://" + r.inner.addr + "/backup")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="usage-ledger-20261115T120000Z.db"`, resp.Header.Get("Content-Disposition"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))

	// The copy opens as a ledger with the counts committed: 2 requests, 30
	// tokens.
	path := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(path, body, 0o600))
	s, err := ledger.Open(path)
	require.NoError(t, err)
	defer s.Close()
	rows, err := s.Rows(context.Background(), []string{"2026-11"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, uint64(2), rows[0].Requests)
	assert.Equal(t, uint64(30), rows[0].InputTokens)

	post, err := http.Post("http://"+r.inner.addr+"/backup", "text/plain", http.NoBody)
	require.NoError(t, err)
	require.NoError(t, post.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func TestBackupEndpointOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.Backup = false
	r := start(t, cfg)
	resp, err := http.Get("http://" + r.inner.addr + "/backup")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
