// Command gen writes the Usage Ledger dashboards as Grafana JSON:
// go run ./deploy/grafana/gen writes deploy/grafana/dashboards/*.json.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/usageledger/usageledger/deploy/grafana"
)

func main() {
	dir := flag.String("dir", "deploy/grafana/dashboards", "folder to write the dashboards to")
	flag.Parse()
	for _, d := range grafana.Dashboards() {
		out, err := grafana.JSON(d)
		if err != nil {
			log.Fatalf("cannot build dashboards: %v", err)
		}
		if err := os.WriteFile(filepath.Join(*dir, d.File), out, 0o644); err != nil {
			log.Fatalf("cannot write dashboards: %v", err)
		}
	}
}
