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
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/confignet"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

func TestBackupEndpoint(t *testing.T) {
	cfg := testConfig(t)
	cfg.Backup = true
	r := start(t, cfg)
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
	require.False(t, cfg.Backup, "off by default")
	r := start(t, cfg)
	resp, err := http.Get("http://" + r.inner.addr + "/backup")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestBackupOpen(t *testing.T) {
	f := func(backup, auth bool, transport confignet.TransportType, addr string, want bool) {
		t.Helper()
		cfg := testConfig(t)
		cfg.Backup = backup
		if auth {
			cfg.Metrics.Auth = configoptional.Some(confighttp.AuthConfig{
				Config: configauth.Config{AuthenticatorID: component.MustNewID("scrape_token")},
			})
		}
		cfg.Metrics.NetAddr.Transport = transport
		assert.Equal(t, want, backupOpen(cfg, addr), "backup=%v auth=%v %s %s", backup, auth, transport, addr)
	}
	f(false, false, confignet.TransportTypeTCP, "0.0.0.0:9464", false)
	f(true, false, confignet.TransportTypeTCP, "[::]:9464", true)
	f(true, false, confignet.TransportTypeTCP, "0.0.0.0:9464", true)
	f(true, false, confignet.TransportTypeTCP, "10.1.2.3:9464", true)
	f(true, true, confignet.TransportTypeTCP, "0.0.0.0:9464", false)
	f(true, false, confignet.TransportTypeTCP, "127.0.0.1:9464", false)
	f(true, false, confignet.TransportTypeTCP, "127.0.0.2:9464", false)
	f(true, false, confignet.TransportTypeTCP, "[::1]:9464", false)
	f(true, false, confignet.TransportTypeUnix, "/run/otelcol/metrics.sock", false)
}

// TestBackupWithoutAuthWarns expects one warning naming the endpoint when
// backup is on without auth on every interface, and none on loopback, where
// the exporter really starts.
func TestBackupWithoutAuthWarns(t *testing.T) {
	cfg := testConfig(t)
	cfg.Backup = true
	e, logs := startAndStop(t, cfg, zap.WarnLevel)
	assert.Empty(t, logs.All(), "loopback only: no warning")

	// As a server listening on 0.0.0.0:9464 would report its address.
	e.addr = "[::]:9464"
	e.warnIfBackupOpen()
	require.Len(t, logs.All(), 1)
	assert.Contains(t, logs.All()[0].Message, "/backup without auth")
	assert.Equal(t, "[::]:9464", logs.All()[0].ContextMap()["endpoint"])
}
