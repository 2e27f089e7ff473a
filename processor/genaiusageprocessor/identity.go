package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"
	"unicode/utf8"

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

	// keys are the distinct keys of all five lists, whose span values
	// spanAttrs.read keeps; each list's places among them are in places.
	keys   *identityKeys
	places identityPlaces
}

// identityPlaces holds, per list of keys, the place of each key among
// identityKeys.names.
type identityPlaces struct {
	org, connection, agent, team, costCenter []int
}

func newIdentityReader(cfg *Config) identityReader {
	keys, places := newIdentityKeys(cfg)
	return identityReader{
		orgKeys:        cfg.OrgKeys,
		defaultOrg:     identityValue(cfg.DefaultOrg),
		connectionKeys: cfg.ConnectionKeys,
		agentKeys:      cfg.AgentKeys,
		teamKeys:       cfg.TeamKeys,
		costCenterKeys: cfg.CostCenterKeys,
		keys:           keys,
		places:         places,
	}
}

// resourceValues are the values of a resource's attributes under every
// configured key, looked up once for all the calls of the resource.
type resourceValues struct {
	org, connection, agent, team, costCenter []string
}

// lookup fills v with the values of resource under r's keys, reusing v's
// slices.
func (r *identityReader) lookup(resource pcommon.Map, v *resourceValues) {
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
func (r *identityReader) read(span, resource pcommon.Map, target string) identity {
	var v resourceValues
	r.lookup(resource, &v)
	var a spanAttrs
	a.read(span, r.keys)
	return r.readWith(&a, &v, target)
}

// readWith is read with the span's attributes read for r.keys and the
// resource's values looked up already.
func (r *identityReader) readWith(
	span *spanAttrs,
	resource *resourceValues,
	target string,
) identity {
	id := identity{
		org:        r.firstValue(r.orgKeys, r.places.org, span, resource.org),
		connection: r.firstValue(r.connectionKeys, r.places.connection, span, resource.connection),
		team:       r.firstValue(r.teamKeys, r.places.team, span, resource.team),
		costCenter: r.firstValue(r.costCenterKeys, r.places.costCenter, span, resource.costCenter),
	}
	if id.org == "" {
		id.org = r.defaultOrg
	}
	if id.connection == "" {
		agent := r.firstValue(r.agentKeys, r.places.agent, span, resource.agent)
		if agent == "" {
			agent = unknownValue
		}
		id.connection = agent + "/" + target
	}
	return id
}

// firstValue returns the first non-empty value among keys, looking at the
// span's attributes before the resource's (resource[i] is the resource's
// value under keys[i], places[i] the place of keys[i] among r.keys.names)
// for each key.
func (r *identityReader) firstValue(
	keys []string,
	places []int,
	span *spanAttrs,
	resource []string,
) string {
	for i, key := range keys {
		if v, ok := span.identityValue(places[i], key); ok {
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
	if isPlainValue(s) {
		return s
	}
	return usage.BoundedValue(strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")))
}

// isPlainValue reports whether identityValue leaves s as it is because it
// is short enough and ASCII (so valid UTF-8), and neither starts nor ends
// with a byte that could be white space. Most names are, and it spares
// them the scans for invalid UTF-8 and white space.
func isPlainValue(s string) bool {
	if s == "" || len(s) > usage.MaxValueBytes || s[0] <= ' ' || s[len(s)-1] <= ' ' {
		return false
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if le64(s[i:i+8])&asciiHighBits != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiHighBits has the high bit of each of eight bytes set: a byte with
// it set is not ASCII.
const asciiHighBits = 0x8080808080808080

// le64 returns the first eight bytes of s as a little-endian number.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
