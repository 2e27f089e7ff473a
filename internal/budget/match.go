package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"fmt"
	"strings"
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

// maxDistances bounds the edit distances one call of [Config.Unmatched]
// computes, so that budgets on an organization of a hundred thousand
// connections do not hold up a start: past it, a budget is reported
// without a closest name.
const maxDistances = 200_000

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
	orgs := make(map[string]struct{}, len(conns))
	for org := range conns {
		orgs[org] = struct{}{}
	}
	near := nearest{left: maxDistances}

	var out []Unmatched
	missingOrg := func(u Unmatched) Unmatched {
		u.Missing, u.Closest = "organization", near.closest(u.Org, orgs)
		if _, ok := orgs[usage.OverflowName]; ok {
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
		u.Missing, u.Closest = "connection", near.closest(b.Connection, names)
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

// closest returns the name of names nearest to name by edit distance,
// letters compared without case, when at most two letters differ and at
// most a quarter of the longer name's (so a name of fewer than four
// letters matches only up to case); of equally near names the first in
// byte order; empty if none is that near, or when the distances to compute
// have run out. The overflow name is never returned.
func (n *nearest) closest(name string, names map[string]struct{}) string {
	length := utf8.RuneCountInString(name)
	lower := strings.ToLower(name)
	best, bestDistance := "", -1
	for candidate := range names {
		if candidate == usage.OverflowName {
			continue
		}
		other := utf8.RuneCountInString(candidate)
		limit := min(2, max(length, other)/4)
		// Names whose lengths differ by more than the limit cannot be near
		// enough; skipping them spares the distance of most names.
		if other-length > limit || length-other > limit {
			continue
		}
		if n.left == 0 {
			return ""
		}
		n.left--
		d := levenshtein.ComputeDistance(lower, strings.ToLower(candidate))
		if d > limit {
			continue
		}
		if bestDistance < 0 || d < bestDistance || d == bestDistance && candidate < best {
			best, bestDistance = candidate, d
		}
	}
	return best
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
