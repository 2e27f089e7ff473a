package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/usage"
)

// identity says whom a call is attributed to.
type identity struct {
	org        string
	connection string
	team       string
	costCenter string
}

// identityReader finds a call's identity in span and resource attributes
// under the configured keys.
type identityReader struct {
	orgKeys        []string
	defaultOrg     string
	connectionKeys []string
	agentKeys      []string
	teamKeys       []string
	costCenterKeys []string
}

func newIdentityReader(cfg *Config) identityReader {
	return identityReader{
		orgKeys:        cfg.OrgKeys,
		defaultOrg:     identityValue(cfg.DefaultOrg),
		connectionKeys: cfg.ConnectionKeys,
		agentKeys:      cfg.AgentKeys,
		teamKeys:       cfg.TeamKeys,
		costCenterKeys: cfg.CostCenterKeys,
	}
}

// resourceValues are the values of a resource's attributes under every
// configured key, looked up once for all the calls of the resource.
type resourceValues struct {
	org, connection, agent, team, costCenter []string
}

// lookup fills v with the values of resource under r's keys, reusing v's
// slices.
func (r identityReader) lookup(resource pcommon.Map, v *resourceValues) {
	fill := func(dst *[]string, keys []string) {
		*dst = (*dst)[:0]
		for _, key := range keys {
			s := ""
			if val, ok := resource.Get(key); ok {
				s = identityValue(scalarString(val))
			}
			*dst = append(*dst, s)
		}
	}
	fill(&v.org, r.orgKeys)
	fill(&v.connection, r.connectionKeys)
	fill(&v.agent, r.agentKeys)
	fill(&v.team, r.teamKeys)
	fill(&v.costCenter, r.costCenterKeys)
}

// read returns the identity of a call to target (a provider, "tool:<name>"
// or "mcp:<server>"). A connection named explicitly wins; otherwise it is
// "<agent>/<target>", with agent "unknown" when no agent key is present.
func (r identityReader) read(span, resource pcommon.Map, target string) identity {
	var v resourceValues
	r.lookup(resource, &v)
	return r.readWith(span, &v, target)
}

// readWith is read with the resource's values looked up already.
func (r identityReader) readWith(span pcommon.Map, resource *resourceValues, target string) identity {
	id := identity{
		org:        firstValue(r.orgKeys, span, resource.org),
		connection: firstValue(r.connectionKeys, span, resource.connection),
		team:       firstValue(r.teamKeys, span, resource.team),
		costCenter: firstValue(r.costCenterKeys, span, resource.costCenter),
	}
	if id.org == "" {
		id.org = r.defaultOrg
	}
	if id.connection == "" {
		agent := firstValue(r.agentKeys, span, resource.agent)
		if agent == "" {
			agent = unknownValue
		}
		id.connection = agent + "/" + target
	}
	return id
}

// firstValue returns the first non-empty value among keys, looking at the
// span's attributes before the resource's (resource[i] is the resource's
// value under keys[i]) for each key.
func firstValue(keys []string, span pcommon.Map, resource []string) string {
	for i, key := range keys {
		if v, ok := span.Get(key); ok {
			if s := identityValue(scalarString(v)); s != "" {
				return s
			}
		}
		if resource[i] != "" {
			return resource[i]
		}
	}
	return ""
}

// scalarString returns a string, number or bool attribute as text; other
// kinds of values (maps, arrays, bytes) name nothing and return "".
func scalarString(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
		return v.AsString()
	default:
		return ""
	}
}

// identityValue makes s fit for a ledger key: invalid UTF-8 bytes become
// U+FFFD, surrounding white space is removed, and a value longer than
// [usage.MaxValueBytes] is shortened as [usage.BoundedValue] does. It
// allocates only when s holds invalid UTF-8 or is too long.
func identityValue(s string) string {
	return usage.BoundedValue(strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")))
}
