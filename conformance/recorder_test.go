package conformance

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder stands between the libraries and the collector's OTLP/HTTP
// receiver: it forwards every export request unchanged and, when given a
// folder, writes each request body as one line of a new file
// <library>.otlp.jsonl, exactly as the library sent it.
type recorder struct {
	addr      string
	collector string
	dir       string

	mu      sync.Mutex
	library string
	lines   [][]byte
}

func startRecorder(t *testing.T, collectorAddr, dir string) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &recorder{addr: l.Addr().String(), collector: collectorAddr, dir: dir}
	server := &http.Server{Handler: http.HandlerFunc(r.forward)}
	go func() { _ = server.Serve(l) }()
	t.Cleanup(func() { _ = server.Close() })
	return r
}

func (r *recorder) forward(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "reading the export request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.lines = append(r.lines, body)
	r.mu.Unlock()

	out, err := http.NewRequest(http.MethodPost, "http://"+r.collector+req.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, h := range []string{"Content-Type", "Content-Encoding"} {
		if v := req.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, "forwarding to the collector: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// begin starts the recording of one library's requests.
func (r *recorder) begin(t *testing.T, library string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.library, r.lines = library, nil
}

// end writes the library's requests to the recording folder, if any.
func (r *recorder) end(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dir == "" {
		return
	}
	var file bytes.Buffer
	for _, line := range r.lines {
		require.NotContains(t, string(line), "\n", "an OTLP/JSON request must fit on one line")
		file.Write(line)
		file.WriteByte('\n')
	}
	// A recording never replaces a file: the fixtures in testdata are kept
	// byte for byte, so new ones are recorded elsewhere and copied in.
	path := filepath.Join(r.dir, r.library+".otlp.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err, "recording %s: record into an empty folder", r.library)
	_, err = f.Write(file.Bytes())
	require.NoError(t, err)
	require.NoError(t, f.Close())
	t.Logf("recorded %d export requests to %s", len(r.lines), path)
}
