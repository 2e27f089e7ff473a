package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"sync"

	"github.com/usageledger/usageledger/internal/ledger"
)

// overflow is the organization, connection and model name that calls past a
// limit are booked to. It keeps totals right: every call is counted
// somewhere.
const overflow = "_overflow"

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

	mu   sync.Mutex
	orgs map[string]map[string]struct{}
	// models holds the admitted models of every connection, overflow
	// buckets included, and modelCounts their number without _overflow.
	models      map[ledger.Key]struct{} // Month unused
	modelCounts map[ledger.ConnectionID]int
}

// newGuard returns a guard that admits the connections known and the
// models of rows.
func newGuard(limits LimitsConfig, known []ledger.Connection, rows []ledger.Row) *guard {
	g := &guard{
		maxOrgs:     limits.Organizations,
		maxConns:    limits.ConnectionsPerOrganization,
		maxModels:   limits.ModelsPerConnection,
		orgs:        make(map[string]map[string]struct{}),
		models:      make(map[ledger.Key]struct{}),
		modelCounts: make(map[ledger.ConnectionID]int),
	}
	for _, c := range known {
		g.addConnection(c.Org, c.Connection)
	}
	for _, r := range rows {
		g.addConnection(r.Org, r.Connection)
		g.addModel(r.Org, r.Connection, r.Model)
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
			conns = make(map[string]struct{})
			g.orgs[org] = conns
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
	if _, ok := g.models[ledger.Key{Org: b.org, Connection: b.conn, Model: model}]; ok {
		return b
	}
	if g.modelCounts[ledger.ConnectionID{Org: b.org, Connection: b.conn}] >= g.maxModels {
		b.model = overflow
		if b.limit == "" {
			b.limit = limitModels
		}
		return b
	}
	g.addModel(b.org, b.conn, model)
	return b
}

// addConnection admits org and its connection conn, and returns the
// connections of org.
func (g *guard) addConnection(org, conn string) map[string]struct{} {
	conns := g.orgs[org]
	if conns == nil {
		conns = make(map[string]struct{})
		g.orgs[org] = conns
	}
	conns[conn] = struct{}{}
	return conns
}

// addModel admits model on the connection (org, conn).
func (g *guard) addModel(org, conn, model string) {
	k := ledger.Key{Org: org, Connection: conn, Model: model}
	if _, ok := g.models[k]; ok {
		return
	}
	g.models[k] = struct{}{}
	if model != overflow {
		g.modelCounts[ledger.ConnectionID{Org: org, Connection: conn}]++
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
