package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import "strings"

// realName returns the name under which a real organization, connection or
// model s is booked, so that none can merge into an overflow bucket: the
// overflow name followed by any number of underscores ("_overflow",
// "_overflow_", ...) gets one underscore more, and every other name stays
// as it is. No two names share a result, and none results in "_overflow".
func realName(s string) string {
	if strings.HasPrefix(s, overflow) && strings.Trim(s[len(overflow):], "_") == "" {
		return s + "_"
	}
	return s
}
