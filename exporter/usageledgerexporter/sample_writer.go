package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"bufio"
	"io"
	"strconv"
)

// sampleWriter writes the lines of the Prometheus text format to a buffered
// writer. Each line is built in one byte slice that is reused from line to
// line, so a scrape of millions of series allocates nothing per sample.
// Its output is what the VictoriaMetrics/metrics writers produce for the
// same name and value: `name value` with the value as %d or %g.
//
// After a write fails, the writer drops every further line and [flush]
// returns the error. Not safe for concurrent use.
type sampleWriter struct {
	w    *bufio.Writer
	line []byte
	err  error
}

// sampleBufferSize is the size of the buffer in front of the response: big
// enough that a write to the connection carries hundreds of lines.
const sampleBufferSize = 64 << 10

func newSampleWriter(w io.Writer) *sampleWriter {
	return &sampleWriter{w: bufio.NewWriterSize(w, sampleBufferSize), line: make([]byte, 0, 512)}
}

// metadata writes the HELP and TYPE lines of a family.
func (s *sampleWriter) metadata(name, help, typ string) {
	b := append(s.line[:0], "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	s.end(b)
}

// uint writes `name{labels extra} v`; labels and extra must be escaped
// already, and extra is empty or starts with a comma.
func (s *sampleWriter) uint(name, labels, extra string, v uint64) {
	if s.err != nil {
		return
	}
	b := s.series(name, labels, extra)
	s.end(strconv.AppendUint(b, v, 10))
}

// float writes `name{labels} v` with v in the shortest form that reads back
// as the same float64, as %g does.
func (s *sampleWriter) float(name, labels string, v float64) {
	if s.err != nil {
		return
	}
	b := s.series(name, labels, "")
	s.end(strconv.AppendFloat(b, v, 'g', -1, 64))
}

// series starts a sample line: the name, the labels in braces and the space
// before the value.
func (s *sampleWriter) series(name, labels, extra string) []byte {
	b := append(s.line[:0], name...)
	b = append(b, '{')
	b = append(b, labels...)
	b = append(b, extra...)
	return append(b, "} "...)
}

// end ends the line in b and writes it.
func (s *sampleWriter) end(b []byte) {
	b = append(b, '\n')
	s.line = b
	if s.err != nil {
		return
	}
	_, s.err = s.w.Write(b)
}

// flush writes what is buffered and returns the first error of any write.
func (s *sampleWriter) flush() error {
	if s.err != nil {
		return s.err
	}
	s.err = s.w.Flush()
	return s.err
}
