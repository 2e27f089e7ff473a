package tests

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	collectorOnce sync.Once
	collectorCopy string
	collectorErr  error
)

// collectorBinary is the Usage Ledger distribution under test, from
// USAGELEDGER_COLLECTOR; without it the scenario skips. The binary is
// copied once per run, so a rebuild during the run cannot mix two builds
// in one table.
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("USAGELEDGER_COLLECTOR")
	if bin == "" {
		t.Skip("USAGELEDGER_COLLECTOR is not set: build the collector (make build at the repository root) and point it at bin/otelcol-usageledger")
	}
	collectorOnce.Do(func() { collectorCopy, collectorErr = copyBinary(bin) })
	if collectorErr != nil {
		t.Fatalf("USAGELEDGER_COLLECTOR=%s: %v", bin, collectorErr)
	}
	return collectorCopy
}

// copyBinary copies bin into a folder of its own that lives as long as the
// test process, and notes the build it copied in the report.
func copyBinary(bin string) (string, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "usageledger-testbed-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	out := filepath.Join(dir, filepath.Base(bin))
	if err := os.WriteFile(out, data, 0o755); err != nil {
		return "", err
	}
	report.Note("collector under test: %s, built %s, sha256 %x", bin,
		info.ModTime().UTC().Format(time.RFC3339), sha256.Sum256(data))
	return out, nil
}

// binDir holds the copy of the collector binary; TestMain removes it.
var binDir string

var (
	diyOnce sync.Once
	diyErr  error
	diyLog  []byte
)

// diyBinary builds the do-it-yourself collector once per run with
// build-diy.sh (which skips the build when the binary is up to date) and
// returns its path, or an error when there is no binary and the build
// failed (without ocb, say).
func diyBinary(t *testing.T) (string, error) {
	t.Helper()
	bin, err := filepath.Abs("../bin/otelcol-diy")
	if err != nil {
		return "", err
	}
	diyOnce.Do(func() {
		cmd := exec.Command("./build-diy.sh")
		cmd.Dir = ".."
		diyLog, diyErr = cmd.CombinedOutput()
	})
	if diyErr != nil {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("the do-it-yourself collector is not built and build-diy.sh failed (%v):\n%s", diyErr, diyLog)
		}
		t.Logf("build-diy.sh failed (%v); using the existing %s", diyErr, bin)
	}
	return bin, nil
}
