package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
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

// read returns the identity of a call to provider. A connection named
// explicitly wins; otherwise it is "<agent>/<provider>", with agent
// "unknown" when no agent key is present.
func (r identityReader) read(span, resource pcommon.Map, provider string) identity {
	id := identity{
		org:        firstValue(r.orgKeys, span, resource),
		connection: firstValue(r.connectionKeys, span, resource),
		team:       firstValue(r.teamKeys, span, resource),
		costCenter: firstValue(r.costCenterKeys, span, resource),
	}
	if id.org == "" {
		id.org = r.defaultOrg
	}
	if id.connection == "" {
		agent := firstValue(r.agentKeys, span, resource)
		if agent == "" {
			agent = unknownValue
		}
		id.connection = agent + "/" + provider
	}
	return id
}

// firstValue returns the first non-empty value among keys, looking at the
// span's attributes before the resource's for each key.
func firstValue(keys []string, span, resource pcommon.Map) string {
	for _, key := range keys {
		if v, ok := span.Get(key); ok {
			if s := identityValue(scalarString(v)); s != "" {
				return s
			}
		}
		if v, ok := resource.Get(key); ok {
			if s := identityValue(scalarString(v)); s != "" {
				return s
			}
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
// U+FFFD and surrounding white space is removed. It allocates only when s
// holds invalid UTF-8.
func identityValue(s string) string {
	return strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
}
