package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// attrSlot names one attribute the dialect readers consult.
type attrSlot uint8

// The attributes the dialect readers consult, one slot each.
const (
	// Guardrails.
	slotLiteLLMGuardrailStatus attrSlot = iota
	slotLiteLLMGuardrailMode
	slotLiteLLMV1GuardrailMode
	slotRailType
	slotRailStop
	slotGuardrailVerdict
	slotGuardrailAction
	slotGuardrailTarget
	slotGuardrailResultType
	slotGuardrailResultValue
	slotGuardrailSource

	// Provider, models, response and tool.
	slotProviderName
	slotSystem
	slotOIProvider
	slotOISystem
	slotAIProvider
	slotServerAddress
	slotRequestModel
	slotResponseModel
	slotOIRequestModel
	slotAIModel
	slotOIResponseModel
	slotAIRespModel
	slotOIModel
	slotOIEmbeddingModel
	slotResponseID
	slotAIResponseID
	slotToolName
	slotOIToolName
	slotAIToolName

	// How the call ended.
	slotErrorType
	slotFinishReasons
	slotAIFinishReason
	slotOIFinishReason
	slotHTTPStatusCode
	slotHTTPStatusCodeOld
	slotErrorCode
	slotLiteLLMErrorCode
	slotRPCMethod

	// The Vercel AI SDK's operation, provider metadata and usage details.
	slotAIOperationID
	slotAIProviderMetadata
	slotAIInputDetails
	slotAIInputNoCache

	// Service tier, in the order of serviceTierAttrs.
	slotServiceTier
	slotServiceTierDeprecated
	slotRequestServiceTier
	slotRequestServiceTierDeprecated

	// Cost the span reports, in the order of reportedCostAttrs.
	slotCostUSD
	slotOICost
	slotLiteLLMCost
	slotLiteLLMV1Cost
	slotOperationCost

	numSlots
)

// slotKeys are the attribute names of the slots.
var slotKeys = [numSlots]string{
	slotLiteLLMGuardrailStatus: attrLiteLLMGuardrailStatus,
	slotLiteLLMGuardrailMode:   attrLiteLLMGuardrailMode,
	slotLiteLLMV1GuardrailMode: attrLiteLLMV1GuardrailMode,
	slotRailType:               attrRailType,
	slotRailStop:               attrRailStop,
	slotGuardrailVerdict:       attrGuardrailVerdict,
	slotGuardrailAction:        attrGuardrailAction,
	slotGuardrailTarget:        attrGuardrailTarget,
	slotGuardrailResultType:    attrGuardrailResultType,
	slotGuardrailResultValue:   attrGuardrailResultValue,
	slotGuardrailSource:        attrGuardrailSource,

	slotProviderName:     attrProviderName,
	slotSystem:           attrSystem,
	slotOIProvider:       attrOIProvider,
	slotOISystem:         attrOISystem,
	slotAIProvider:       attrAIProvider,
	slotServerAddress:    attrServerAddress,
	slotRequestModel:     attrRequestModel,
	slotResponseModel:    attrResponseModel,
	slotOIRequestModel:   attrOIRequestModel,
	slotAIModel:          attrAIModel,
	slotOIResponseModel:  attrOIResponseModel,
	slotAIRespModel:      attrAIRespModel,
	slotOIModel:          attrOIModel,
	slotOIEmbeddingModel: attrOIEmbeddingModel,
	slotResponseID:       attrResponseID,
	slotAIResponseID:     attrAIResponseID,
	slotToolName:         attrToolName,
	slotOIToolName:       attrOIToolName,
	slotAIToolName:       attrAIToolName,

	slotErrorType:         attrErrorType,
	slotFinishReasons:     attrFinishReasons,
	slotAIFinishReason:    attrAIFinishReason,
	slotOIFinishReason:    attrOIFinishReason,
	slotHTTPStatusCode:    rateLimitCodeAttrs[0],
	slotHTTPStatusCodeOld: rateLimitCodeAttrs[1],
	slotErrorCode:         rateLimitCodeAttrs[2],
	slotLiteLLMErrorCode:  rateLimitCodeAttrs[3],
	slotRPCMethod:         attrRPCMethod,

	slotAIOperationID:      attrAIOperationID,
	slotAIProviderMetadata: attrAIProviderMetadata,
	slotAIInputDetails:     attrAIInputDetails,
	slotAIInputNoCache:     attrAIInputNoCache,

	slotServiceTier:                  serviceTierAttrs[0],
	slotServiceTierDeprecated:        serviceTierAttrs[1],
	slotRequestServiceTier:           serviceTierAttrs[2],
	slotRequestServiceTierDeprecated: serviceTierAttrs[3],

	slotCostUSD:       reportedCostAttrs[0],
	slotOICost:        reportedCostAttrs[1],
	slotLiteLLMCost:   reportedCostAttrs[2],
	slotLiteLLMV1Cost: reportedCostAttrs[3],
	slotOperationCost: reportedCostAttrs[4],
}

// spanAttrs holds what the dialect readers consult of one span's
// attributes, found in one pass over them: the value of every attribute of
// slotKeys, the flat usage counts, and the values under the configured
// identity keys. Each value is the first under its name, the one
// [pcommon.Map.Get] returns. It refers into the span's attributes and is
// valid until they change; each batch has its own, reused for each call.
type spanAttrs struct {
	attrs  pcommon.Map
	values [numSlots]pcommon.Value
	found  [numSlots]bool

	// usage holds the counts of the flat usage attributes of usageNames;
	// usageMalformed says one of their values was ignored.
	usage          reportedTokens
	usageMalformed bool

	// identity holds the span's values under the identity keys of the
	// reader it was read for, by their place in identityKeys.names;
	// hasIdentity says the span holds at least one identity key.
	identity      [maxIndexedIdentityKeys]pcommon.Value
	identityFound [maxIndexedIdentityKeys]bool
	hasIdentity   bool
}

// indexedKey is what one attribute name means to the readers: a slot, a
// usage count, or both.
type indexedKey struct {
	name    string
	slot    attrSlot
	isSlot  bool
	usage   usageName
	isUsage bool
}

// keyIndex finds the meaning of an attribute name with one probe, most of
// the time, of a table that open addressing fills: a name's signature, from
// its length and its last eight bytes, tells its place in the table, and
// the name is compared only with a known name of the same signature. A
// name no reader consults usually costs its signature and one comparison
// of two integers.
type keyIndex struct {
	sigs [keyIndexSize]uint64
	keys [keyIndexSize]indexedKey
}

// keyIndexSize is the number of places in a keyIndex, a power of two at
// least four times the number of known names, so that probes are short.
const (
	keyIndexBits = 9
	keyIndexSize = 1 << keyIndexBits
)

// knownKeys indexes slotKeys and usageNames.
var knownKeys = newKeyIndex()

func newKeyIndex() *keyIndex {
	byName := make(map[string]indexedKey, int(numSlots)+len(usageNames))
	for s, name := range slotKeys {
		byName[name] = indexedKey{name: name, slot: attrSlot(s), isSlot: true}
	}
	for name, u := range usageNames {
		k := byName[name]
		k.name, k.usage, k.isUsage = name, u, true
		byName[name] = k
	}
	// The names are placed in a fixed order, so that the table, and the
	// probes each name takes, are the same in every run: the standard names
	// (and the other names of rank 0) first, so that the names most spans
	// carry are the likeliest to be found at their first place.
	names := slices.SortedFunc(maps.Keys(byName), func(x, y string) int {
		return cmp.Or(cmp.Compare(byName[x].usage.rank, byName[y].usage.rank), strings.Compare(x, y))
	})
	ix := &keyIndex{}
	for _, name := range names {
		k := byName[name]
		if len(name) < minIndexedKeyLen {
			panic("genaiusage: attribute name too short to index: " + name)
		}
		sig := keySignature(name)
		i := sig >> (64 - keyIndexBits)
		for ix.sigs[i] != 0 {
			i = (i + 1) % keyIndexSize
		}
		ix.sigs[i], ix.keys[i] = sig, k
	}
	return ix
}

// minIndexedKeyLen is the length of the shortest name the index may hold.
const minIndexedKeyLen = 8

// keySignature mixes the length and the last eight bytes of name, at least
// minIndexedKeyLen long, into a number that is never 0.
func keySignature(name string) uint64 {
	return (le64(name[len(name)-8:])^uint64(len(name)))*0x9e3779b97f4a7c15 | 1
}

// lookup returns what name means, or nil for a name no reader consults.
func (ix *keyIndex) lookup(name string) *indexedKey {
	if len(name) < minIndexedKeyLen {
		return nil
	}
	sig := keySignature(name)
	for i := sig >> (64 - keyIndexBits); ; i = (i + 1) % keyIndexSize {
		switch ix.sigs[i] {
		case sig:
			if k := &ix.keys[i]; k.name == name {
				return k
			}
		case 0:
			return nil
		}
	}
}

// reset empties a for the next span.
func (a *spanAttrs) reset() {
	clear(a.found[:])
	a.usage, a.usageMalformed = reportedTokens{}, false
	clear(a.identityFound[:])
	a.hasIdentity = false
}

// read fills a from attrs in one pass. ids, when not nil, names the
// identity keys whose values to keep too.
func (a *spanAttrs) read(attrs pcommon.Map, ids *identityKeys) {
	a.attrs = attrs
	for key, v := range attrs.All() {
		if k := knownKeys.lookup(key); k != nil {
			if k.isSlot && !a.found[k.slot] {
				a.values[k.slot], a.found[k.slot] = v, true
			}
			if k.isUsage {
				a.addUsage(k.usage, v)
			}
		}
		if ids != nil {
			a.addIdentity(ids, key, v)
		}
	}
}

// addUsage takes one usage attribute into the flat usage counts: the name
// of lowest rank wins, a value that is no count is ignored and makes the
// usage malformed, and the first value under a standard name is held for
// write.
func (a *spanAttrs) addUsage(name usageName, v pcommon.Value) {
	t := &a.usage
	// parseCount returns an int as it is, a count or not, which is what a
	// standard name holds: the int is not read again for it.
	n, ok := parseCount(v)
	isInt := v.Type() == pcommon.ValueTypeInt
	if name.rank == 0 && name.q < qTotal && !t.held[name.q].present {
		h := heldCount{present: true, isInt: isInt}
		if isInt {
			h.n = n
		}
		t.held[name.q] = h
	}
	if !ok {
		a.usageMalformed = true
		return
	}
	slot := t.slot(name.q)
	if !slot.present || name.rank < slot.rank {
		*slot = tokenCount{n: n, present: true, rank: name.rank}
	}
}

// addIdentity keeps v when key is one of the identity keys ids names.
func (a *spanAttrs) addIdentity(ids *identityKeys, key string, v pcommon.Value) {
	if !ids.filter.may(key) {
		return
	}
	for i, name := range ids.names {
		if name != key {
			continue
		}
		a.hasIdentity = true
		if i < maxIndexedIdentityKeys && !a.identityFound[i] {
			a.identity[i], a.identityFound[i] = v, true
		}
		return
	}
}

// value returns the attribute of slot s.
func (a *spanAttrs) value(s attrSlot) (pcommon.Value, bool) {
	return a.values[s], a.found[s]
}

// has reports whether the span holds the attribute of slot s.
func (a *spanAttrs) has(s attrSlot) bool { return a.found[s] }

// str returns the attribute of slot s when it is a string, else "".
func (a *spanAttrs) str(s attrSlot) string {
	if !a.found[s] || a.values[s].Type() != pcommon.ValueTypeStr {
		return ""
	}
	return a.values[s].Str()
}

// isTrue reports whether the attribute of slot s is the bool true.
func (a *spanAttrs) isTrue(s attrSlot) bool {
	return a.found[s] && a.values[s].Type() == pcommon.ValueTypeBool && a.values[s].Bool()
}

// stringAttr returns the value of the first of slots that the span holds
// as a non-empty string, made valid UTF-8 and trimmed.
func (a *spanAttrs) stringAttr(slots ...attrSlot) string {
	for _, s := range slots {
		if v := a.str(s); v != "" {
			if v = identityValue(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// responseID returns the provider's id of the response a call span
// records, or "".
func (a *spanAttrs) responseID() string {
	if id := a.str(slotResponseID); id != "" {
		return id
	}
	return a.str(slotAIResponseID)
}
