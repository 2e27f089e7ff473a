package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"
)

// maxThreshold is 2^56: OpenTelemetry sampling thresholds are 56-bit
// rejection thresholds, so a span is kept with probability
// (2^56 - threshold) / 2^56.
const maxThreshold = 1 << 56

// adjustedCount returns how many calls a span stands for after head
// sampling upstream, from the "th" sub-key of the "ot" member of its W3C
// tracestate (OpenTelemetry's consistent probability sampling): 2^56 /
// (2^56 - threshold). It returns 1 for a span without a threshold or with an
// unreadable one, and never allocates.
//
// The threshold is up to 14 hex digits, trailing zeros left out: "th:8"
// keeps half the spans (adjusted count 2), "th:c" a quarter (4), "th:0"
// all of them (1).
func adjustedCount(traceState string) float64 {
	ot, ok := tracestateMember(traceState, "ot")
	if !ok {
		return 1
	}
	for ot != "" {
		var field string
		field, ot, _ = strings.Cut(ot, ";")
		hex, found := strings.CutPrefix(field, "th:")
		if !found {
			continue
		}
		threshold, ok := parseThreshold(hex)
		if !ok {
			return 1
		}
		return float64(maxThreshold) / float64(maxThreshold-threshold)
	}
	return 1
}

// tracestateMember returns the value of member key of a W3C tracestate.
func tracestateMember(ts, key string) (string, bool) {
	for ts != "" {
		var member string
		member, ts, _ = strings.Cut(ts, ",")
		member = strings.TrimSpace(member)
		k, v, ok := strings.Cut(member, "=")
		if ok && k == key {
			return v, true
		}
	}
	return "", false
}

// parseThreshold reads 1 to 14 hex digits as the high digits of a 56-bit
// threshold.
func parseThreshold(hex string) (uint64, bool) {
	if len(hex) == 0 || len(hex) > 14 {
		return 0, false
	}
	var t uint64
	for i := 0; i < 14; i++ {
		var d uint64
		if i < len(hex) {
			switch c := hex[i]; {
			case c >= '0' && c <= '9':
				d = uint64(c - '0')
			case c >= 'a' && c <= 'f':
				d = uint64(c-'a') + 10
			default:
				return 0, false
			}
		}
		t = t<<4 | d
	}
	return t, true
}
