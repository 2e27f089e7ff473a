package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/config/confignet"
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

// backupOpen reports whether /backup is served without auth to more than
// this machine: on an address that is not loopback (0.0.0.0 and :: listen
// on every interface), with no authenticator configured. addr is the
// address the server listens on; a Unix socket is left to its file
// permissions.
func backupOpen(cfg *Config, addr string) bool {
	if !cfg.Backup || cfg.Metrics.Auth.HasValue() || cfg.Metrics.NetAddr.Transport == confignet.TransportTypeUnix {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLoopback()
}

// warnIfBackupOpen logs one warning when [backupOpen] holds for the
// address the server listens on.
func (e *ledgerExporter) warnIfBackupOpen() {
	if backupOpen(e.cfg, e.addr) {
		e.logger.Warn("The usage ledger file is served at /backup without auth on an address other hosts "+
			"can reach; anyone who can scrape /metrics can download it. Set metrics::auth, listen on "+
			"localhost only, or set backup: false",
			zap.String("endpoint", e.addr))
	}
}
