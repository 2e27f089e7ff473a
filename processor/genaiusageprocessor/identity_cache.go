package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
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

// mayHoldIdentity reports whether any key of attrs may be an identity key.
func (f *identityKeyFilter) mayHoldIdentity(attrs pcommon.Map) bool {
	for key := range attrs.All() {
		if key != "" && f[key[0]]&lengthBit(key) != 0 {
			return true
		}
	}
	return false
}

// resourceIdentity is the identity of a call whose span holds no identity
// key, for one target of the resource counted last.
type resourceIdentity struct {
	target   string
	identity identity
}

// identityOf returns the identity of the call to target that span attrs
// records, under the resource values of b. A span without identity keys
// takes the identity found for an earlier call of the same resource and
// target, so that the batch reads it, and builds its connection name, once.
func (p *usageProcessor) identityOf(b *batch, attrs pcommon.Map, target string) identity {
	if p.identityKeys.mayHoldIdentity(attrs) {
		return p.identities.readWith(attrs, &b.resource, target)
	}
	for _, ri := range b.identities {
		if ri.target == target {
			return ri.identity
		}
	}
	id := p.identities.readWith(attrs, &b.resource, target)
	b.identities = append(b.identities, resourceIdentity{target: target, identity: id})
	return id
}
