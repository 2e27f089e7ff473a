package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// metricsPath is where the exposition is served, backupPath the copy of
// the ledger file.
const (
	metricsPath = "/metrics"
	backupPath  = "/backup"
)

// startServer listens on the configured endpoint and serves in the
// background; a serve failure is reported to the host as fatal.
func (e *ledgerExporter) startServer(ctx context.Context, host component.Host) error {
	mux := http.NewServeMux()
	mux.HandleFunc(metricsPath, e.serveMetrics)
	if e.cfg.Backup {
		mux.HandleFunc(backupPath, e.serveBackup)
	}

	server, err := e.cfg.Metrics.ToServer(ctx, host.GetExtensions(), e.settings.TelemetrySettings, mux)
	if err != nil {
		return err
	}
	ln, err := e.cfg.Metrics.ToListener(ctx)
	if err != nil {
		return err
	}
	e.server = server
	e.addr = ln.Addr().String()

	e.serving.Go(func() {
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

// stopServer stops the server, if started, and waits for it to finish.
func (e *ledgerExporter) stopServer(ctx context.Context) error {
	if e.server == nil {
		return nil
	}
	err := e.server.Shutdown(ctx)
	e.serving.Wait()
	e.server = nil
	return err
}
