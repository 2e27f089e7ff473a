package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"sync"

	"github.com/usageledger/usageledger/internal/ledger"
)

// overflow is the organization and connection name that calls past a limit
// are booked to. It keeps totals right: every call is counted somewhere.
const overflow = "_overflow"

// guard bounds the organizations and connections with rows of their own. It
// starts from the connections already in the ledger, so a restart keeps the
// same names in and out. A name once admitted stays admitted for the life of
// the process; when a commit fails its names stay admitted too, and its
// retry books the same way. Safe for concurrent use.
type guard struct {
	maxOrgs, maxConns int

	mu   sync.Mutex
	orgs map[string]map[string]struct{}
}

func newGuard(limits LimitsConfig, known []ledger.Connection) *guard {
	g := &guard{
		maxOrgs:  limits.Organizations,
		maxConns: limits.ConnectionsPerOrganization,
		orgs:     make(map[string]map[string]struct{}),
	}
	for _, c := range known {
		conns := g.orgs[c.Org]
		if conns == nil {
			conns = make(map[string]struct{})
			g.orgs[c.Org] = conns
		}
		conns[c.Connection] = struct{}{}
	}
	return g
}

// admit returns the organization and connection a call of (org, conn) is
// booked to, and whether that is an overflow bucket. The overflow names do
// not count toward the limits. A ledger that holds more than the limits
// (they were lowered) keeps every name it holds.
func (g *guard) admit(org, conn string) (string, string, bool) {
	if org == overflow {
		return overflow, overflow, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	conns, known := g.orgs[org]
	if !known {
		if g.countOrgs() >= g.maxOrgs {
			return overflow, overflow, true
		}
		conns = make(map[string]struct{})
		g.orgs[org] = conns
	}
	if conn == overflow {
		return org, overflow, true
	}
	if _, ok := conns[conn]; ok {
		return org, conn, false
	}
	if countWithout(conns) >= g.maxConns {
		return org, overflow, true
	}
	conns[conn] = struct{}{}
	return org, conn, false
}

func (g *guard) countOrgs() int {
	n := len(g.orgs)
	if _, ok := g.orgs[overflow]; ok {
		n--
	}
	return n
}

func countWithout(conns map[string]struct{}) int {
	n := len(conns)
	if _, ok := conns[overflow]; ok {
		n--
	}
	return n
}
