package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/usageledger/usageledger/internal/provider"
)

// fileVersion is the version of the price file format this package reads.
const fileVersion = 1

// dateLayout is the form of an entry's effective date, read as UTC.
const dateLayout = "2006-01-02"

var (
	errVersion   = errors.New("unsupported price file version")
	errNoEntries = errors.New("price file has no entries")
)

// priceFile is the document a price file holds. Fields a later format adds
// (tiers, per-call prices) must keep older files readable.
type priceFile struct {
	Version int          `yaml:"version"`
	Prices  []priceEntry `yaml:"prices"`
}

// priceEntry is one dated price of one model. Amounts are decimal USD per
// million tokens, kept as the text written in the file so that they are
// parsed exactly.
type priceEntry struct {
	Provider   string      `yaml:"provider"`
	Model      string      `yaml:"model"`
	Aliases    []string    `yaml:"aliases"`
	Effective  string      `yaml:"effective"`
	Input      string      `yaml:"input"`
	Output     string      `yaml:"output"`
	CacheRead  string      `yaml:"cache_read"`
	CacheWrite string      `yaml:"cache_write"`
	Source     priceSource `yaml:"source"`
}

// priceSource says where a price was read and when.
type priceSource struct {
	URL  string `yaml:"url"`
	Read string `yaml:"read"`
}

// Load parses a price file: YAML with a version and a list of dated prices in
// USD per million tokens. It rejects the whole file if any entry is invalid;
// the error names the entry.
func Load(data []byte) (*Table, error) {
	var file priceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("pricing: cannot parse price file: %w", err)
	}
	if file.Version != fileVersion {
		return nil, fmt.Errorf("pricing: %w %d; expecting version: %d", errVersion, file.Version, fileVersion)
	}
	if len(file.Prices) == 0 {
		return nil, fmt.Errorf("pricing: %w", errNoEntries)
	}

	t := &Table{prices: make(map[modelKey][]Price, len(file.Prices))}
	for i, entry := range file.Prices {
		p, err := entry.price()
		if err != nil {
			return nil, fmt.Errorf("pricing: entry %d (%s %s %s): %w",
				i, entry.Provider, entry.Model, entry.Effective, err)
		}
		key := modelKey{provider: p.Provider, model: p.Model}
		t.prices[key] = append(t.prices[key], p)
		t.entries++
	}
	t.sortByEffective()
	if err := t.checkDates(); err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	if err := t.addAliases(file.Prices); err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	return t, nil
}

// price validates the entry and converts it to a Price.
func (e priceEntry) price() (Price, error) {
	if e.Provider == "" {
		return Price{}, errors.New("'provider' is empty; expecting a provider name such as \"openai\"")
	}
	if !provider.IsNormalized(e.Provider) {
		return Price{}, fmt.Errorf("'provider' %q is not a normalized name; expecting %q",
			e.Provider, provider.Normalize(e.Provider))
	}
	if e.Model == "" {
		return Price{}, errors.New("'model' is empty; expecting the model name calls report")
	}
	effective, err := time.ParseInLocation(dateLayout, e.Effective, time.UTC)
	if err != nil {
		return Price{}, fmt.Errorf("'effective' %q is not a date; expecting YYYY-MM-DD", e.Effective)
	}
	if e.Source.URL == "" || e.Source.Read == "" {
		return Price{}, errors.New("'source' needs 'url' and 'read' (the date the price was read)")
	}
	if _, err := time.Parse(dateLayout, e.Source.Read); err != nil {
		return Price{}, fmt.Errorf("'source.read' %q is not a date; expecting YYYY-MM-DD", e.Source.Read)
	}

	p := Price{
		Provider:  e.Provider,
		Model:     e.Model,
		Effective: effective,
		Source:    e.Source.URL + " (read " + e.Source.Read + ")",
	}
	if p.Input, err = parsePerMillion("input", e.Input); err != nil {
		return Price{}, err
	}
	if p.Output, err = parsePerMillion("output", e.Output); err != nil {
		return Price{}, err
	}
	p.CacheRead, p.CacheWrite = p.Input, p.Input
	if e.CacheRead != "" {
		if p.CacheRead, err = parsePerMillion("cache_read", e.CacheRead); err != nil {
			return Price{}, err
		}
	}
	if e.CacheWrite != "" {
		if p.CacheWrite, err = parsePerMillion("cache_write", e.CacheWrite); err != nil {
			return Price{}, err
		}
	}
	return p, nil
}

// checkDates rejects two prices of one model on the same date: which one
// applies would depend on the order of the file.
func (t *Table) checkDates() error {
	for key, dated := range t.prices {
		for i := 1; i < len(dated); i++ {
			if dated[i].Effective.Equal(dated[i-1].Effective) {
				return fmt.Errorf("%s %s has two prices effective %s; expecting one per date",
					key.provider, key.model, dated[i].Effective.Format(dateLayout))
			}
		}
	}
	return nil
}

// addAliases makes each alias resolve to its canonical model's prices. An
// alias must name no other model and belong to one model only.
func (t *Table) addAliases(entries []priceEntry) error {
	owner := make(map[modelKey]string)
	for _, e := range entries {
		for _, alias := range e.Aliases {
			key := modelKey{provider: e.Provider, model: alias}
			if alias == "" {
				return fmt.Errorf("%s %s has an empty alias", e.Provider, e.Model)
			}
			if prev, ok := owner[key]; ok && prev != e.Model {
				return fmt.Errorf("alias %q of %s %s is also an alias of %s",
					alias, e.Provider, e.Model, prev)
			}
			if _, ok := t.prices[key]; ok && owner[key] == "" {
				return fmt.Errorf("alias %q of %s %s is itself a priced model", alias, e.Provider, e.Model)
			}
			owner[key] = e.Model
		}
	}
	for key, model := range owner {
		t.prices[key] = t.prices[modelKey{provider: key.provider, model: model}]
	}
	return nil
}
