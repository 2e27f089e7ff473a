package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"slices"
	"sync"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/textblocks"
	"github.com/usageledger/usageledger/internal/usage"
)

// overflow is the organization, connection and model name that calls past a
// limit are booked to. It keeps totals right: every call is counted
// somewhere.
const overflow = usage.OverflowName

// The limits a call can be booked past, as the limit attribute of
// exporter_usageledger_calls_overflowed names them.
const (
	limitOrganizations = "organizations"
	limitConnections   = "connections_per_organization"
	limitModels        = "models_per_connection"
)

// placement is where the guard books one call: the names of its row, and the
// limit that sent it to an overflow bucket, empty when none did.
type placement struct {
	org, conn, model string
	limit            string
}

// guard bounds the organizations, connections per organization and models
// per connection with rows of their own. It starts from the connections
// already in the ledger and the models of its recent rows, so a restart
// keeps the same names in and out. A name once admitted stays admitted for
// the life of the process; when a commit fails its names stay admitted too,
// and its retry books the same way. Safe for concurrent use.
type guard struct {
	maxOrgs, maxConns, maxModels int

	mu sync.Mutex
	// orgs holds the admitted connections of each admitted organization,
	// and the admitted models of each connection, overflow buckets
	// included. A connection rarely calls more than a few models, so they
	// are a list: at 100,000 connections of one model each this takes
	// about half the heap of a map of every (organization, connection,
	// model) and a count per connection (BenchmarkGuardHeap).
	orgs map[string]map[string]*admitted
	// names holds the text of every name admitted. The names of the rows
	// read at start are cut from blocks of other text; copied, they keep
	// none of it alive.
	names textblocks.Blocks
}

// newGuard returns a guard that admits the connections known and the
// models of rows.
func newGuard(limits LimitsConfig, known []ledger.Connection, rows []ledger.Row) *guard {
	g := &guard{
		maxOrgs:   limits.Organizations,
		maxConns:  limits.ConnectionsPerOrganization,
		maxModels: limits.ModelsPerConnection,
		orgs:      make(map[string]map[string]*admitted),
		names:     textblocks.New(64 << 10),
	}
	for _, c := range known {
		g.addConnection(c.Org, c.Connection)
	}
	for _, r := range rows {
		g.addModel(g.addConnection(r.Org, r.Connection)[r.Connection], r.Model)
	}
	return g
}

// admit returns where a call of (org, conn, model) is booked. The overflow
// names do not count toward the limits. A ledger that holds more than the
// limits (they were lowered) keeps every name it holds. The names must have
// been through [realName], so that none equals the overflow name.
func (g *guard) admit(org, conn, model string) placement {
	g.mu.Lock()
	defer g.mu.Unlock()

	b := placement{org: org, conn: conn, model: model}
	conns, known := g.orgs[org]
	if !known {
		if countWithout(g.orgs) >= g.maxOrgs {
			b.org, b.conn, b.limit = overflow, overflow, limitOrganizations
			conns = g.addConnection(overflow, overflow)
		} else {
			conns = g.addOrg(org)
		}
	}
	if b.limit == "" {
		if _, ok := conns[conn]; !ok {
			if countWithout(conns) >= g.maxConns {
				b.conn, b.limit = overflow, limitConnections
			}
			g.addConnection(b.org, b.conn)
		}
	}

	// Overflow buckets are bounded too: without it, the models of every
	// connection past a limit would pile up in one bucket.
	c := conns[b.conn]
	if slices.Contains(c.models, model) {
		return b
	}
	if c.count() >= g.maxModels {
		b.model = overflow
		if b.limit == "" {
			b.limit = limitModels
		}
		return b
	}
	g.addModel(c, model)
	return b
}

// admitted holds the models admitted on one connection. The maps hold it
// by pointer: assigning to a map replaces the stored key too, with the
// caller's string, which would keep the caller's text alive.
type admitted struct {
	models []string
}

// count returns the models admitted, the overflow model not counted.
func (a *admitted) count() int {
	n := len(a.models)
	if slices.Contains(a.models, overflow) {
		n--
	}
	return n
}

// addOrg admits the organization org, with no connection yet, and returns
// its connections.
func (g *guard) addOrg(org string) map[string]*admitted {
	conns := make(map[string]*admitted)
	g.orgs[g.names.Join(org)] = conns
	return conns
}

// addConnection admits org and its connection conn, and returns the
// connections of org.
func (g *guard) addConnection(org, conn string) map[string]*admitted {
	conns := g.orgs[org]
	if conns == nil {
		conns = g.addOrg(org)
	}
	if _, ok := conns[conn]; !ok {
		conns[g.names.Join(conn)] = &admitted{}
	}
	return conns
}

// addModel admits model on the connection c.
func (g *guard) addModel(c *admitted, model string) {
	if !slices.Contains(c.models, model) {
		c.models = append(c.models, g.names.Join(model))
	}
}

// countWithout returns the names in m other than the overflow name.
func countWithout[V any](m map[string]V) int {
	n := len(m)
	if _, ok := m[overflow]; ok {
		n--
	}
	return n
}
