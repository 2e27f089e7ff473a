package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"fmt"
	"iter"
	"maps"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// Unmatched is a budget naming an organization, or a connection, of which
// the ledger has recorded no call. Its spend stays 0 until one arrives, so
// a misspelt name would keep the budget from ever filling.
type Unmatched struct {
	// Key is where the budget is configured, "budgets::connections[2]".
	Key string
	// Org and Connection are the names the budget gives; Connection is
	// empty for an organization's budget.
	Org, Connection string
	// Missing says which name the ledger lacks: "organization" when it
	// holds no call of the organization, "connection" when it holds calls
	// of the organization but none of the connection.
	Missing string
	// Closest is the recorded name nearest to the missing one (an
	// organization, or a connection of the organization), when it is near
	// enough to be what was meant; empty otherwise. The overflow name is
	// never suggested.
	Closest string
	// Overflow is the row the exporter books calls of the missing name to
	// when that name is past its limits ("_overflow", or "acme/_overflow"
	// for a connection), when the ledger holds such calls; empty otherwise.
	Overflow string
}

// maxDistances and maxCandidates bound the edit distances one call of
// [Config.Unmatched] computes, in all and for one budget, so that budgets
// on an organization of a hundred thousand connections do not hold up a
// start. A budget with more candidates (recorded names of a length near
// enough) than maxCandidates, or than what is left of maxDistances, is
// reported without a closest name and computes nothing.
const (
	maxDistances  = 200_000
	maxCandidates = 20_000
)

// Unmatched returns the budgets of cfg whose organization or connection is
// not among known, the connections the ledger has recorded, in the order
// they are configured: organizations' budgets first. A ledger that has
// recorded nothing yet matches no name and none is worth a warning, so it
// returns nothing then.
func (cfg *Config) Unmatched(known []ledger.Connection) []Unmatched {
	if len(known) == 0 || cfg.Empty() {
		return nil
	}
	conns := make(map[string]map[string]struct{}) // connections by organization
	for _, c := range known {
		names := conns[c.Org]
		if names == nil {
			names = make(map[string]struct{})
			conns[c.Org] = names
		}
		names[c.Connection] = struct{}{}
	}
	near := nearest{left: maxDistances}
	var orgIndex *nameIndex
	connIndex := make(map[string]*nameIndex)

	var out []Unmatched
	missingOrg := func(u Unmatched) Unmatched {
		if orgIndex == nil {
			orgIndex = newNameIndex(maps.Keys(conns))
		}
		u.Missing, u.Closest = "organization", near.closest(u.Org, orgIndex)
		if _, ok := conns[usage.OverflowName]; ok {
			u.Overflow = usage.OverflowName
		}
		return u
	}
	for i, b := range cfg.Organizations {
		if _, ok := conns[b.Org]; !ok {
			out = append(out, missingOrg(Unmatched{Key: fmt.Sprintf("budgets::organizations[%d]", i), Org: b.Org}))
		}
	}
	for i, b := range cfg.Connections {
		u := Unmatched{Key: fmt.Sprintf("budgets::connections[%d]", i), Org: b.Org, Connection: b.Connection}
		names, ok := conns[b.Org]
		if !ok {
			out = append(out, missingOrg(u))
			continue
		}
		if _, ok := names[b.Connection]; ok {
			continue
		}
		ix := connIndex[b.Org]
		if ix == nil {
			ix = newNameIndex(maps.Keys(names))
			connIndex[b.Org] = ix
		}
		u.Missing, u.Closest = "connection", near.closest(b.Connection, ix)
		if _, ok := names[usage.OverflowName]; ok {
			u.Overflow = b.Org + "/" + usage.OverflowName
		}
		out = append(out, u)
	}
	return out
}

// nearest finds recorded names near a missing one, computing at most left
// edit distances in all.
type nearest struct {
	left int
}

// nameIndex is a set of recorded names ready for the search: by their
// letters in lower case, and by their length in letters.
type nameIndex struct {
	byLower  map[string]string // the first in byte order of the names with those letters
	byLength map[int][]indexedName
}

type indexedName struct {
	name, lower string
}

func newNameIndex(names iter.Seq[string]) *nameIndex {
	ix := &nameIndex{byLower: make(map[string]string), byLength: make(map[int][]indexedName)}
	for name := range names {
		if name == usage.OverflowName {
			continue
		}
		lower := strings.ToLower(name)
		if have, ok := ix.byLower[lower]; !ok || name < have {
			ix.byLower[lower] = name
		}
		n := utf8.RuneCountInString(name)
		ix.byLength[n] = append(ix.byLength[n], indexedName{name, lower})
	}
	return ix
}

// closest returns the name of ix nearest to name. Letter case aside, at
// most two letters may differ and at most a quarter of the longer name's,
// so that two names of fewer than four letters match only up to case. A sibling ([siblings]) is passed over, and so is the overflow
// name. No name is returned when two names other than in case are equally
// near, or when there are more candidates than distances to compute; a
// name that differs only in case is found whatever their number.
func (n *nearest) closest(name string, ix *nameIndex) string {
	lower := strings.ToLower(name)
	if same, ok := ix.byLower[lower]; ok {
		return same
	}
	length := utf8.RuneCountInString(name)
	var lengths []int
	count := 0
	for other := max(0, length-2); other <= length+2; other++ {
		// A quarter of the longer name bounds the difference in length too.
		if limit := min(2, max(length, other)/4); other-length <= limit && length-other <= limit {
			lengths = append(lengths, other)
			count += len(ix.byLength[other])
		}
	}
	if count > min(maxCandidates, n.left) {
		return ""
	}
	n.left -= count

	// Names that differ only in case are one name to choose from: the first
	// of them in byte order stands for them.
	var best indexedName
	bestDistance, tied := -1, false
	for _, other := range lengths {
		limit := min(2, max(length, other)/4)
		for _, c := range ix.byLength[other] {
			d := levenshtein.ComputeDistance(lower, c.lower)
			switch {
			case d > limit || siblings(lower, c.lower):
			case bestDistance < 0 || d < bestDistance:
				best, bestDistance, tied = c, d, false
			case c.lower == best.lower:
				best.name = min(best.name, c.name)
			case d == bestDistance:
				tied = true
			}
		}
	}
	if tied {
		return ""
	}
	return best.name
}

// siblings reports whether two names, in lower case, look like two members
// of one series rather than one name and its misspelling: they differ only
// in digits (org-1233 and org-1234, agent-v1 and agent-v2), or only in one
// word of at most two letters (openai-eu and openai-us, gpt-4 and gpt-4o).
// A word is a run of letters and digits.
func siblings(a, b string) bool {
	if stripDigits(a) == stripDigits(b) {
		return true
	}
	wa, wb := words(a), words(b)
	if len(wa) != len(wb) {
		return false
	}
	differ := -1
	for i := range wa {
		if wa[i] != wb[i] {
			if differ >= 0 {
				return false
			}
			differ = i
		}
	}
	return differ >= 0 && utf8.RuneCountInString(wa[differ]) <= 2 && utf8.RuneCountInString(wb[differ]) <= 2
}

func stripDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, s)
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// WarnUnmatched logs a warning for each budget [Config.Unmatched] returns
// for the connections known, with the closest recorded name when there is
// one and the overflow row when the ledger holds one the calls may be in.
func (cfg *Config) WarnUnmatched(logger *zap.Logger, known []ledger.Connection) {
	for _, u := range cfg.Unmatched(known) {
		fields := []zap.Field{zap.String("budget", u.Key), zap.String("org", u.Org)}
		if u.Connection != "" {
			fields = append(fields, zap.String("connection", u.Connection))
		}
		if u.Closest != "" {
			fields = append(fields, zap.String("closest_recorded_"+u.Missing, u.Closest))
		}
		msg := map[string]string{
			"organization": "Budget names an organization of which the ledger has counted no call",
			"connection":   "Budget names a connection of which the ledger has counted no call",
		}[u.Missing] + "; its spend stays 0 until one is counted, so check the name"
		if u.Overflow != "" {
			fields = append(fields, zap.String("overflow", u.Overflow))
			msg += ", and whether the exporter's limits book its calls to the overflow row"
		}
		logger.Warn(msg, fields...)
	}
}
