package usageledgerexporter

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensionauth"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadatatest"
)

// scrapeToken is an authenticator that lets through requests carrying one
// fixed Authorization header.
type scrapeToken struct {
	component.StartFunc
	component.ShutdownFunc
}

var _ extensionauth.Server = scrapeToken{}

func (scrapeToken) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	for _, v := range sources["Authorization"] {
		if v == "Bearer s3cret" {
			return ctx, nil
		}
	}
	return ctx, errors.New("missing or wrong scrape token")
}

// hostWith is a host holding the given extensions.
type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

func TestMetricsServerUsesAuthExtension(t *testing.T) {
	authID := component.MustNewID("scrape_token")
	cfg := testConfig(t)
	cfg.Backup = true
	cfg.Metrics.Auth = configoptional.Some(confighttp.AuthConfig{
		Config: configauth.Config{AuthenticatorID: authID},
	})

	e, err := newLedgerExporter(cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), hostWith{authID: scrapeToken{}}))
	defer func() { require.NoError(t, e.shutdown(context.Background())) }()

	var getPath func(path, token string) int
	get := func(token string) int {
		return getPath("/metrics", token)
	}
	getPath = func(path, token string) int {
		req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+path, http.NoBody)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, get(""))
	assert.Equal(t, http.StatusUnauthorized, get("guess"))
	assert.Equal(t, http.StatusOK, get("s3cret"))

	// The backup is behind the same auth.
	assert.Equal(t, http.StatusUnauthorized, getPath("/backup", ""))
	assert.Equal(t, http.StatusOK, getPath("/backup", "s3cret"))
}
