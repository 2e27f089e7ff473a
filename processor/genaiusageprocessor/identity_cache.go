package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// identityKeyFilter tells, from a key's first byte and length, whether it
// may be one of the configured identity keys. It has false positives, never
// false negatives: a span none of whose keys pass holds no identity value of
// its own, so its identity is that of its resource and target alone.
type identityKeyFilter [256]uint64

// newIdentityKeyFilter returns the filter of every identity key in cfg.
func newIdentityKeyFilter(cfg *Config) *identityKeyFilter {
	var f identityKeyFilter
	for _, keys := range [...][]string{
		cfg.OrgKeys, cfg.ConnectionKeys, cfg.AgentKeys, cfg.TeamKeys, cfg.CostCenterKeys,
	} {
		for _, key := range keys {
			if key != "" {
				f[key[0]] |= lengthBit(key)
			}
		}
	}
	return &f
}

// lengthBit is the bit of key's length; keys of 63 bytes or more share one.
func lengthBit(key string) uint64 {
	return 1 << min(len(key), 63)
}

// may reports whether key may be an identity key.
func (f *identityKeyFilter) may(key string) bool {
	return key != "" && f[key[0]]&lengthBit(key) != 0
}

// mayHoldIdentity reports whether any key of attrs may be an identity key.
func (f *identityKeyFilter) mayHoldIdentity(attrs pcommon.Map) bool {
	for key := range attrs.All() {
		if f.may(key) {
			return true
		}
	}
	return false
}

// maxIndexedIdentityKeys bounds the distinct identity keys whose span
// values spanAttrs keeps; the values under any further keys are looked up
// in the span's attributes when needed.
const maxIndexedIdentityKeys = 16

// identityKeys are the distinct identity keys of a configuration, with the
// filter that spares most attribute names the comparison with them.
type identityKeys struct {
	filter identityKeyFilter
	names  []string
}

// newIdentityKeys returns the distinct identity keys of cfg and the place
// among them of each key of each list.
func newIdentityKeys(cfg *Config) (*identityKeys, identityPlaces) {
	ids := &identityKeys{filter: *newIdentityKeyFilter(cfg)}
	placesOf := func(keys []string) []int {
		places := make([]int, len(keys))
		for i, key := range keys {
			places[i] = slices.Index(ids.names, key)
			if places[i] < 0 {
				places[i] = len(ids.names)
				ids.names = append(ids.names, key)
			}
		}
		return places
	}
	return ids, identityPlaces{
		org:        placesOf(cfg.OrgKeys),
		connection: placesOf(cfg.ConnectionKeys),
		agent:      placesOf(cfg.AgentKeys),
		team:       placesOf(cfg.TeamKeys),
		costCenter: placesOf(cfg.CostCenterKeys),
	}
}

// identityValue returns the span's value under key, which has the place
// place among the identity keys a was read for.
func (a *spanAttrs) identityValue(place int, key string) (pcommon.Value, bool) {
	if place < maxIndexedIdentityKeys {
		return a.identity[place], a.identityFound[place]
	}
	return a.attrs.Get(key)
}

// resourceIdentity is the identity of a call whose span holds no identity
// key, for one target of the resource counted last.
type resourceIdentity struct {
	target   string
	identity identity
}

// identityOf returns the identity of the call to target that span records,
// under the resource values of b. A span without identity keys takes the
// identity found for an earlier call of the same resource and target, so
// that the batch reads it, and builds its connection name, once.
func (p *usageProcessor) identityOf(b *batch, span *spanAttrs, target string) identity {
	if span.hasIdentity {
		return p.identities.readWith(span, &b.resource, target)
	}
	for _, ri := range b.identities {
		if ri.target == target {
			return ri.identity
		}
	}
	id := p.identities.readWith(span, &b.resource, target)
	b.identities = append(b.identities, resourceIdentity{target: target, identity: id})
	return id
}
