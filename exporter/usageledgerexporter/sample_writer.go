package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"io"
	"strconv"
)

// sampleWriter writes the lines of the Prometheus text format to w. Lines
// are built straight into one buffer that goes to w whenever it is nearly
// full, so a scrape of millions of series allocates nothing per sample and
// copies each line once before w.
// Its output is what the VictoriaMetrics/metrics writers produce for the
// same name and value: `name value` with the value as %d or %g.
//
// After a write fails, the writer drops every further line and [flush]
// returns the error. Not safe for concurrent use.
type sampleWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// sampleBufferSize is the size of the buffer in front of w: big enough that
// a write to the connection carries hundreds of lines. It is written out
// once less than lineRoom is left, so that lines seldom outgrow it; one
// that does grows the buffer.
const (
	sampleBufferSize = 64 << 10
	lineRoom         = 4 << 10
)

func newSampleWriter(w io.Writer) *sampleWriter {
	return &sampleWriter{w: w, buf: make([]byte, 0, sampleBufferSize)}
}

// metadata writes the HELP and TYPE lines of a family.
func (s *sampleWriter) metadata(name, help, typ string) {
	b := append(s.buf, "# HELP "...)
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
	b := append(s.buf, name...)
	b = append(b, '{')
	b = append(b, labels...)
	b = append(b, extra...)
	return append(b, "} "...)
}

// end ends the line at the end of b, which is the buffer with the line
// appended, and writes the buffer out when it is nearly full.
func (s *sampleWriter) end(b []byte) {
	s.buf = append(b, '\n')
	if len(s.buf) > cap(s.buf)-lineRoom {
		s.write()
	}
}

// write writes out the buffer, unless a write failed before.
func (s *sampleWriter) write() {
	if s.err == nil {
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
}

// flush writes what is buffered and returns the first error of any write.
func (s *sampleWriter) flush() error {
	if len(s.buf) > 0 {
		s.write()
	}
	return s.err
}
