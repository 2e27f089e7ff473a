package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
)

// serveBackup answers GET /backup with a consistent copy of the ledger file,
// taken in one read transaction while commits go on: the body, saved to a
// file, opens as a ledger. It is served behind the metrics server's auth.
func (e *ledgerExporter) serveBackup(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method "+r.Method+" not allowed; expecting GET", http.StatusMethodNotAllowed)
		return
	}
	store := e.ledger()
	if store == nil {
		http.Error(w, errNotStarted.Error(), http.StatusServiceUnavailable)
		return
	}
	backuper, ok := store.(ledger.Backuper)
	if !ok {
		http.Error(w, "this ledger store cannot be backed up here; use the database's own backup",
			http.StatusNotImplemented)
		return
	}

	name := "usage-ledger-" + e.now().UTC().Format("20060102T150405Z") + ".db"
	start := time.Now()
	started := false
	n, err := backuper.Backup(r.Context(), func(size int64) io.Writer {
		started = true
		// With the length set, a copy cut short fails on the client's side
		// rather than passing for a smaller file.
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		return w
	})
	if err != nil {
		e.logger.Warn("Usage ledger backup failed", zap.Int64("bytes_written", n), zap.Error(err))
		if !started {
			http.Error(w, "cannot back up the usage ledger: "+err.Error(), http.StatusInternalServerError)
		}
		return
	}
	e.telemetry.ExporterUsageledgerBackups.Add(r.Context(), 1)
	e.logger.Info("Usage ledger backup served", zap.Int64("bytes", n), zap.Duration("took", time.Since(start)))
}
