// Command genai-prices regenerates the shipped price table from the public
// price dataset @pydantic/genai-prices (MIT). It downloads the package with
// npm into a temporary folder, evaluates its bundled data with node, and
// writes internal/pricing/prices.json with the dataset's version and
// publication date in its header. Builds and tests never run it: the
// generated file is committed.
//
// Usage:
//
//	go run ./tools/genai-prices [-version 0.1.8] [-out internal/pricing/prices.json]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/usageledger/usageledger/internal/pricing"
)

func main() {
	version := flag.String("version", "", "dataset version to read; the latest when empty")
	out := flag.String("out", "internal/pricing/prices.json", "price file to write")
	flag.Parse()

	if err := generate(*version, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func generate(version, out string) error {
	rel, err := fetch(version)
	if err != nil {
		return err
	}
	entries, fallbacks, n, err := convert(rel)
	if err != nil {
		return err
	}
	data := render(rel, entries, fallbacks, n)
	// The file must load before it replaces the committed one.
	table, err := pricing.Compile([]pricing.Source{{Name: out, Data: data}}, pricing.Options{})
	if err != nil {
		return fmt.Errorf("genai-prices: the generated file does not load: %w", err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d prices from %s %s (published %s)\n",
		out, table.Len(), packageName, rel.Version, rel.Published)
	return nil
}
