package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"go.uber.org/zap"

	"github.com/usageledger/usageledger/internal/ledger"
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
	// enough to be what was meant; empty otherwise.
	Closest string
}

// Unmatched returns the budgets of cfg whose organization or connection is
// not among known, the connections the ledger has recorded, in the order
// they are configured: organizations' budgets first. A ledger that has
// recorded nothing yet matches no name and none is worth a warning, so it
// returns nothing then.
func (cfg *Config) Unmatched(known []ledger.Connection) []Unmatched {
	if len(known) == 0 || cfg.Empty() {
		return nil
	}
	conns := make(map[string][]string) // connection names by organization
	for _, c := range known {
		conns[c.Org] = append(conns[c.Org], c.Connection)
	}
	orgs := make([]string, 0, len(conns))
	for org := range conns {
		orgs = append(orgs, org)
	}

	var out []Unmatched
	for i, b := range cfg.Organizations {
		if _, ok := conns[b.Org]; !ok {
			out = append(out, Unmatched{Key: fmt.Sprintf("budgets::organizations[%d]", i), Org: b.Org,
				Missing: "organization", Closest: closest(b.Org, orgs)})
		}
	}
	for i, b := range cfg.Connections {
		u := Unmatched{Key: fmt.Sprintf("budgets::connections[%d]", i), Org: b.Org, Connection: b.Connection}
		names, ok := conns[b.Org]
		switch {
		case !ok:
			u.Missing, u.Closest = "organization", closest(b.Org, orgs)
		case !slices.Contains(names, b.Connection):
			u.Missing, u.Closest = "connection", closest(b.Connection, names)
		default:
			continue
		}
		out = append(out, u)
	}
	return out
}

// closest returns the name of names nearest to name by edit distance,
// letters compared without case, if a third of name's letters or fewer
// (at least one) differ; of equally near names the first in byte order;
// empty if none is that near.
func closest(name string, names []string) string {
	length := utf8.RuneCountInString(name)
	limit := max(1, length/3)
	lower := strings.ToLower(name)
	best, bestDistance := "", limit+1
	for _, n := range names {
		// Names whose lengths differ by more than the limit cannot be near
		// enough; skipping them spares the distance of most names.
		if diff := utf8.RuneCountInString(n) - length; diff > limit || -diff > limit {
			continue
		}
		d := levenshtein.ComputeDistance(lower, strings.ToLower(n))
		if d < bestDistance || d == bestDistance && n < best {
			best, bestDistance = n, d
		}
	}
	return best
}

// WarnUnmatched logs a warning for each budget of cfg that [Config.Unmatched]
// finds among the connections known, with the closest recorded name when
// there is one.
func (cfg *Config) WarnUnmatched(logger *zap.Logger, known []ledger.Connection) {
	for _, u := range cfg.Unmatched(known) {
		fields := []zap.Field{zap.String("budget", u.Key), zap.String("org", u.Org)}
		if u.Connection != "" {
			fields = append(fields, zap.String("connection", u.Connection))
		}
		if u.Closest != "" {
			fields = append(fields, zap.String("closest_recorded_"+u.Missing, u.Closest))
		}
		article := map[string]string{"organization": "an", "connection": "a"}[u.Missing]
		logger.Warn("Budget names "+article+" "+u.Missing+" of which the ledger has counted no call; "+
			"its spend stays 0 until one is counted, so check the name", fields...)
	}
}
