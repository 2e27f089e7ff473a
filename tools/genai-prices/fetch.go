package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// packageName is the npm package holding the dataset.
const packageName = "@pydantic/genai-prices"

// release is one published version of the dataset.
type release struct {
	Version   string
	Published string // YYYY-MM-DD
	Providers []dsProvider
}

// fetch downloads the package with npm into a temporary folder and reads the
// provider list its bundle embeds. version "" means the latest release.
func fetch(version string) (release, error) {
	if version == "" {
		out, err := run("", "npm", "view", packageName, "version")
		if err != nil {
			return release{}, err
		}
		version = strings.TrimSpace(out)
	}
	rel := release{Version: version}

	out, err := run("", "npm", "view", packageName+"@"+version, "time", "--json")
	if err != nil {
		return release{}, err
	}
	var times map[string]string
	if err := json.Unmarshal([]byte(out), &times); err != nil {
		return release{}, fmt.Errorf("genai-prices: cannot read publication times: %w", err)
	}
	if t := times[version]; len(t) >= 10 {
		rel.Published = t[:10]
	} else {
		return release{}, fmt.Errorf("genai-prices: npm lists no publication time for %s", version)
	}

	dir, err := os.MkdirTemp("", "genai-prices-")
	if err != nil {
		return release{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := run(dir, "npm", "pack", "--silent", packageName+"@"+version); err != nil {
		return release{}, err
	}
	tarballs, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(tarballs) != 1 {
		return release{}, fmt.Errorf("genai-prices: npm pack left %d tarballs in %s; expecting 1", len(tarballs), dir)
	}
	bundle, err := readFromTarball(tarballs[0], "package/dist/index.js")
	if err != nil {
		return release{}, err
	}
	if rel.Providers, err = providers(dir, bundle); err != nil {
		return release{}, err
	}
	return rel, nil
}

// dataDecl finds the bundle's first declaration, the provider list.
var dataDecl = regexp.MustCompile(`^const ([A-Za-z_$][A-Za-z0-9_$]*) = \[`)

// providers evaluates the bundle with node, exporting its provider list, and
// decodes it. The bundle is a build artefact without a data export, so the
// list is reached through its declaration.
func providers(dir string, bundle []byte) ([]dsProvider, error) {
	m := dataDecl.FindSubmatch(bundle)
	if m == nil {
		return nil, errors.New("genai-prices: the bundle does not start with the provider list; " +
			"expecting `const X = [` on its first line")
	}
	module := filepath.Join(dir, "data.mjs")
	src := append(bytes.Clone(bundle), []byte("\nexport { "+string(m[1])+" as providerList };\n")...)
	if err := os.WriteFile(module, src, 0o600); err != nil {
		return nil, err
	}
	script := `import { providerList } from ` + jsonString("file://"+module) + `;
process.stdout.write(JSON.stringify(providerList));`
	out, err := run(dir, "node", "--input-type=module", "-e", script)
	if err != nil {
		return nil, err
	}
	var list []dsProvider
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("genai-prices: cannot decode the provider list: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("genai-prices: the provider list is empty")
	}
	return list, nil
}

func readFromTarball(path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("genai-prices: %s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("genai-prices: %s holds no %s", path, name)
		}
		if err != nil {
			return nil, fmt.Errorf("genai-prices: %s: %w", path, err)
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}

func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("genai-prices: %s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
