package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/usageledger/usageledger/internal/provider"
)

// fileVersion is the version of the price file format this package reads.
// Later additions (tiers, per-call prices, fallbacks) are optional fields,
// so files written for the first format stay readable.
const fileVersion = 1

var (
	errVersion   = errors.New("unsupported price file version")
	errNoEntries = errors.New("price file has no entries")
)

// priceFile is the document a price file holds.
type priceFile struct {
	Version int `yaml:"version" json:"version"`
	// Dataset names the public dataset a generated file was derived from;
	// Generated and LeftOut say how, for a reader of the file.
	Dataset   string   `yaml:"dataset" json:"dataset,omitempty"`
	Generated string   `yaml:"generated" json:"generated,omitempty"`
	LeftOut   []string `yaml:"left_out" json:"left_out,omitempty"`

	Fallbacks map[string][]string `yaml:"fallbacks" json:"fallbacks,omitempty"`
	Prices    []priceEntry        `yaml:"prices" json:"prices"`
}

// Source is one price file to load: its name, used in errors, and its bytes.
type Source struct {
	Name string
	Data []byte
}

// Options adjust how a table matches names.
type Options struct {
	// Aliases map names calls report, such as Azure deployment names, to the
	// model they stand for. Keys and targets are matched in lower case.
	Aliases map[string]string
}

// Load parses one price file: YAML with a version and a list of dated prices
// in USD per million tokens. It rejects the whole file if any entry is
// invalid; the error names the entry.
func Load(data []byte) (*Table, error) {
	return Compile([]Source{{Name: "price file", Data: data}}, Options{})
}

// priceKey identifies one dated price while files are merged.
type priceKey struct {
	modelKey
	tier      string
	hours     Hours
	effective string
}

// Compile builds one table from several price files. Its errors start with
// the name of the file at fault and name the entry. A later file's entry
// for a provider, model and effective date replaces an earlier file's; any
// other entry adds to the model's price history. This is how a user's file
// overrides the shipped prices or adds negotiated rates from a date on.
func Compile(sources []Source, opts Options) (*Table, error) {
	t := &Table{
		models:    make(map[modelKey]*model),
		bedrock:   make(map[bedrockKey]*model),
		fallbacks: make(map[string][]string),
	}
	var (
		prices []Price
		from   = make(map[priceKey]int) // index in prices
		owner  = make(map[priceKey]string)
		metas  = make(map[modelKey]*modelMeta)
	)
	for _, src := range sources {
		file, err := parseFile(src)
		if err != nil {
			return nil, err
		}
		if t.dataset == "" {
			t.dataset = file.Dataset
		}
		if err := t.addFallbacks(src.Name, file.Fallbacks); err != nil {
			return nil, err
		}
		for i, entry := range file.Prices {
			p, err := entry.price()
			if err != nil {
				return nil, fmt.Errorf("%s: entry %d (%s %s %s): %w",
					src.Name, i, entry.Provider, entry.Model, entry.Effective, err)
			}
			p.Model = lower(p.Model)
			key := priceKey{modelKey{p.Provider, p.Model}, p.ServiceTier, p.Hours, entry.Effective}
			if prev, ok := owner[key]; ok && prev == src.Name {
				return nil, fmt.Errorf("%s: %s %s%s has two prices effective %s; expecting one per date",
					src.Name, p.Provider, p.Model, tierLabel(p.ServiceTier, p.Hours), entry.Effective)
			}
			if j, ok := from[key]; ok {
				prices[j] = p
			} else {
				from[key] = len(prices)
				prices = append(prices, p)
			}
			owner[key] = src.Name
			meta := metas[key.modelKey]
			if meta == nil {
				meta = &modelMeta{}
				metas[key.modelKey] = meta
			}
			meta.datedVersions = meta.datedVersions || entry.DatedVersions
			for _, alias := range entry.Aliases {
				meta.aliases = append(meta.aliases, aliasOf{name: lower(alias), file: src.Name})
			}
		}
	}

	for _, p := range prices {
		key := modelKey{p.Provider, p.Model}
		m := t.models[key]
		if m == nil {
			m = &model{datedVersions: metas[key].datedVersions}
			t.models[key] = m
		}
		m.add(p)
	}
	for key, m := range t.models {
		if len(m.prices) == 0 {
			return nil, fmt.Errorf("%s %s has only %s prices; expecting a standard price "+
				"(an entry without 'service_tier') too", key.provider, key.model, m.tiers[0].tier)
		}
	}
	t.entries = len(prices)
	t.sortByEffective()
	if err := t.addAliases(metas); err != nil {
		return nil, err
	}
	t.addBedrockKeys()
	if err := t.setAliases(opts.Aliases); err != nil {
		return nil, err
	}
	return t, nil
}

// add files p under its service tier.
func (m *model) add(p Price) {
	if p.ServiceTier == "" {
		m.prices = append(m.prices, p)
		return
	}
	for i := range m.tiers {
		if m.tiers[i].tier == p.ServiceTier {
			m.tiers[i].prices = append(m.tiers[i].prices, p)
			return
		}
	}
	m.tiers = append(m.tiers, tierPrices{tier: p.ServiceTier, prices: []Price{p}})
}

// tierLabel names the service tier and hours of a price in errors.
func tierLabel(tier string, hours Hours) string {
	var parts []string
	if tier != "" {
		parts = append(parts, tier)
	}
	if !hours.IsZero() {
		parts = append(parts, hours.String()+" UTC")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// modelMeta gathers what the entries of one model say about its names.
type modelMeta struct {
	aliases       []aliasOf
	datedVersions bool
}

type aliasOf struct {
	name string
	file string
}

// parseFile reads a price file: YAML, or JSON when its name ends in .json.
// The shipped table is JSON because it decodes several times faster, which
// keeps the collector's start quick; users write YAML.
func parseFile(src Source) (priceFile, error) {
	var (
		file priceFile
		err  error
	)
	if strings.HasSuffix(src.Name, ".json") {
		dec := json.NewDecoder(bytes.NewReader(src.Data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&file)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(src.Data))
		dec.KnownFields(true)
		err = dec.Decode(&file)
	}
	if err != nil {
		return file, fmt.Errorf("cannot parse %s: %w", src.Name, err)
	}
	if file.Version != fileVersion {
		return file, fmt.Errorf("%s: %w %d; expecting version: %d",
			src.Name, errVersion, file.Version, fileVersion)
	}
	if len(file.Prices) == 0 && len(file.Fallbacks) == 0 {
		return file, fmt.Errorf("%s: %w", src.Name, errNoEntries)
	}
	return file, nil
}

// addFallbacks records which providers' prices apply to another provider's
// calls; a later file replaces an earlier file's list for the same provider.
func (t *Table) addFallbacks(file string, fallbacks map[string][]string) error {
	for from, to := range fallbacks {
		for _, name := range append([]string{from}, to...) {
			if !provider.IsNormalized(name) {
				return fmt.Errorf("%s: 'fallbacks' provider %q is not a normalized name; expecting %q",
					file, name, provider.Normalize(name))
			}
		}
		t.fallbacks[from] = to
	}
	return nil
}

// addAliases makes each alias resolve to its canonical model. An alias must
// name no other priced model and belong to one model only.
func (t *Table) addAliases(metas map[modelKey]*modelMeta) error {
	keys := make([]modelKey, 0, len(metas))
	for key := range metas {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].provider+"\x00"+keys[i].model < keys[j].provider+"\x00"+keys[j].model
	})
	owner := make(map[modelKey]string)
	for _, key := range keys {
		for _, alias := range metas[key].aliases {
			akey := modelKey{key.provider, alias.name}
			switch prev, taken := owner[akey]; {
			case alias.name == "":
				return fmt.Errorf("%s: %s %s has an empty alias", alias.file, key.provider, key.model)
			case alias.name == key.model:
				continue
			case taken && prev != key.model:
				return fmt.Errorf("%s: alias %q of %s %s is also an alias of %s",
					alias.file, alias.name, key.provider, key.model, prev)
			case !taken && t.models[akey] != nil:
				return fmt.Errorf("%s: alias %q of %s %s is itself a priced model; "+
					"expecting its prices under %s %s, or no such alias",
					alias.file, alias.name, key.provider, key.model, key.provider, key.model)
			}
			owner[akey] = key.model
		}
	}
	for akey, canonical := range owner {
		t.models[akey] = t.models[modelKey{akey.provider, canonical}]
	}
	return nil
}

// addBedrockKeys indexes every Bedrock name by endpoint scope and id
// without its version, the form [Table.bedrockModel] looks up.
func (t *Table) addBedrockKeys() {
	for key, m := range t.models {
		if key.provider != bedrockProvider {
			continue
		}
		base := bedrockUnversioned(key.model)
		if rest, ok := strings.CutPrefix(base, scopeGlobal+"."); ok {
			t.bedrock[bedrockKey{scopeGlobal, rest}] = m
		} else if rest, ok := strings.CutPrefix(base, scopeRegional+"."); ok {
			t.bedrock[bedrockKey{scopeRegional, rest}] = m
		} else if t.models[modelKey{bedrockProvider, base}] == nil {
			t.models[modelKey{bedrockProvider, base}] = m
		}
	}
}

// setAliases installs the user's alias map. Every target must match a model
// of some provider in the table, and no alias may be a name the table
// already lists, since an exact name is matched before the alias map.
func (t *Table) setAliases(aliases map[string]string) error {
	if len(aliases) == 0 {
		return nil
	}
	seen := make(map[string]bool)
	var providers []string
	for key := range t.models {
		if !seen[key.provider] {
			seen[key.provider] = true
			providers = append(providers, key.provider)
		}
	}
	sort.Strings(providers)
	t.aliases = make(map[string]string, len(aliases))
	names := make([]string, 0, len(aliases))
	for name := range aliases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target := lower(strings.TrimSpace(aliases[name]))
		key := lower(strings.TrimSpace(name))
		if key == "" || target == "" {
			return fmt.Errorf("'aliases' %q: %q needs a non-empty name and model, e.g. my-deployment: gpt-4o",
				name, aliases[name])
		}
		for _, p := range providers {
			if t.models[modelKey{p, key}] != nil {
				return fmt.Errorf("'aliases' %q is already a model %s prices, so the alias would never "+
					"apply; expecting a name the price table does not list", name, p)
			}
		}
		found := false
		for _, p := range providers {
			if t.match(p, target) != nil {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("'aliases' %q points to %q, which no price entry matches; "+
				"expecting a model the price table lists, e.g. gpt-4o", name, aliases[name])
		}
		t.aliases[key] = target
	}
	return nil
}
