package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"net/http"
	"strconv"
	"strings"
)

// acceptsGzip reports whether the request's Accept-Encoding accepts gzip:
// gzip listed with a weight above zero, as in "gzip" or "gzip;q=0.5", or
// not listed and * accepted. "gzip;q=0" refuses it, whatever * says.
func acceptsGzip(h http.Header) bool {
	gzip, star := -1.0, -1.0
	for _, field := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(field, ",") {
			coding, params, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip":
				gzip = weight(params)
			case "*":
				star = weight(params)
			}
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}

// weight returns the q parameter of a coding's parameters, 1 when absent
// and 0 when unreadable.
func weight(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}
