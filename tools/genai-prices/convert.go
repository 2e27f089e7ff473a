package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// providerNames maps the dataset's provider ids to the normalized provider
// names calls report (gen_ai.provider.name). Only these providers are
// shipped; the dataset's other providers are resellers and hosts.
var providerNames = []struct{ dataset, name string }{
	{"openai", "openai"},
	{"anthropic", "anthropic"},
	{"google", "gcp.gemini"},
	{"aws", "aws.bedrock"},
	{"azure", "azure.ai.openai"},
	{"mistral", "mistral_ai"},
	{"deepseek", "deepseek"},
	{"x-ai", "x_ai"},
	{"groq", "groq"},
	{"cohere", "cohere"},
	{"voyageai", "voyageai"},
	{"moonshotai", "moonshot_ai"},
}

// noStartDate is the effective date of a price the dataset gives without a
// start: it applies from the model's release, whenever that was.
const noStartDate = "2000-01-01"

// priceKeys maps the dataset's price keys to fields of a price entry.
var priceKeys = map[string]string{
	"input_mtok":          "input",
	"output_mtok":         "output",
	"cache_read_mtok":     "cache_read",
	"cache_write_mtok":    "cache_write",
	"cache_write_1h_mtok": "cache_write_1h",
	"web_searches_kcount": "web_search_per_thousand",
	"requests_kcount":     "per_thousand_calls",
}

// entry is one dated price of one model, ready to be written.
type entry struct {
	provider      string
	model         string
	aliases       []string
	datedVersions bool
	effective     string
	hours         string            // daily UTC window, "HH:MM-HH:MM"; empty for all day
	fields        map[string]string // price file field → decimal text
	longAbove     int64
	long          map[string]string
	ignored       []string // dataset price keys the product does not apply
	source        string
}

// notes collects what the conversion left out, for the file header.
type notes struct {
	skipped []string
}

// convert turns the dataset's providers into price entries and fallbacks.
func convert(rel release) ([]entry, map[string][]string, notes, error) {
	var (
		entries   []entry
		fallbacks = make(map[string][]string)
		n         notes
	)
	byID := make(map[string]dsProvider, len(rel.Providers))
	for _, p := range rel.Providers {
		byID[p.ID] = p
	}
	nameOf := make(map[string]string, len(providerNames))
	for _, pn := range providerNames {
		nameOf[pn.dataset] = pn.name
	}
	for _, pn := range providerNames {
		p, ok := byID[pn.dataset]
		if !ok {
			return nil, nil, n, fmt.Errorf("genai-prices: the dataset has no provider %q", pn.dataset)
		}
		if len(p.PricingURLs) == 0 {
			return nil, nil, n, fmt.Errorf("genai-prices: provider %q lists no pricing URL", p.ID)
		}
		for _, fb := range p.FallbackModelProviders {
			if name, ok := nameOf[fb]; ok {
				fallbacks[pn.name] = append(fallbacks[pn.name], name)
			}
		}
		converted, err := convertProvider(pn.name, p, rel, &n)
		if err != nil {
			return nil, nil, n, err
		}
		entries = append(entries, converted...)
	}
	return entries, fallbacks, n, nil
}

func convertProvider(name string, p dsProvider, rel release, n *notes) ([]entry, error) {
	models := append([]dsModel(nil), p.Models...)
	sort.Slice(models, func(i, j int) bool { return models[i].ID < models[j].ID })

	ids := make(map[string]bool, len(models))
	for _, m := range models {
		ids[strings.ToLower(m.ID)] = true
	}
	taken := make(map[string]bool)
	var out []entry
	for _, m := range models {
		id := strings.ToLower(m.ID)
		var aliases []string
		for _, alias := range m.Match.names() {
			if alias == id || ids[alias] || taken[alias] {
				continue
			}
			taken[alias] = true
			aliases = append(aliases, alias)
		}
		datedVersions := m.Match.matches(m.ID+"-20250101") || m.Match.matches(m.ID+"-2025-01-01")

		history, err := m.history()
		if err != nil {
			return nil, fmt.Errorf("genai-prices: %s: %w", p.ID, err)
		}
		first := true
		dated := noStartDate // the start of the latest dated price so far
		for _, cp := range history {
			effective, hours := noStartDate, ""
			if c := cp.Constraint; c != nil {
				switch c.Type {
				case "start_date":
					effective, dated = c.StartDate, c.StartDate
				case "time_of_date":
					// The dataset cannot date a daily window; it lists each
					// window after the dated price it belongs with.
					effective = dated
					if hours, err = window(c.StartTime, c.EndTime); err != nil {
						return nil, fmt.Errorf("genai-prices: %s %s: %w", p.ID, m.ID, err)
					}
				default:
					return nil, fmt.Errorf("genai-prices: %s %s: unknown price constraint %q", p.ID, m.ID, c.Type)
				}
			}
			e, ok, err := convertPrice(cp, m.ID)
			if err != nil {
				return nil, fmt.Errorf("genai-prices: %s %s: %w", p.ID, m.ID, err)
			}
			if !ok {
				n.skipped = append(n.skipped, fmt.Sprintf("%s %s: no token or call price", name, id))
				continue
			}
			e.provider, e.model, e.effective, e.hours = name, id, effective, hours
			e.source = p.PricingURLs[0]
			if first {
				e.aliases, e.datedVersions = aliases, datedVersions
				first = false
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// convertPrice converts one set of prices; ok is false when it holds no
// price the product applies (audio hours only, say). An empty set is a free
// model, priced at zero.
func convertPrice(cp conditionalPrice, model string) (entry, bool, error) {
	e := entry{fields: make(map[string]string), long: make(map[string]string)}
	keys := make([]string, 0, len(cp.Prices))
	for k := range cp.Prices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field, ok := priceKeys[k]
		if !ok {
			e.ignored = append(e.ignored, k)
			continue
		}
		a, err := amount(cp.Prices[k])
		if err != nil {
			return e, false, fmt.Errorf("price %s: %w", k, err)
		}
		e.fields[field] = decimal(a.Base)
		switch len(a.Tiers) {
		case 0:
		case 1:
			if e.longAbove != 0 && e.longAbove != a.Tiers[0].Start {
				return e, false, fmt.Errorf("price %s starts its tier at %d, another price at %d; "+
					"expecting one threshold per model", k, a.Tiers[0].Start, e.longAbove)
			}
			if field == "web_search_per_thousand" || field == "per_thousand_calls" {
				return e, false, fmt.Errorf("price %s is tiered; expecting tiers on token prices only", k)
			}
			e.longAbove = a.Tiers[0].Start
			e.long[field] = decimal(a.Tiers[0].Price)
		default:
			return e, false, fmt.Errorf("price %s has %d tiers; expecting at most one", k, len(a.Tiers))
		}
	}
	_, in := e.fields["input"]
	_, out := e.fields["output"]
	_, call := e.fields["per_thousand_calls"]
	if !in && !out && !call {
		if len(cp.Prices) > 0 {
			return e, false, nil // priced only in units the product does not count
		}
		// The dataset lists the model with no price at all: it is free.
	}
	if !call {
		if !in {
			e.fields["input"] = "0"
		}
		if !out {
			e.fields["output"] = "0"
		}
	}
	return e, true, nil
}

// decimal writes a dataset number as the shortest decimal that reads back
// as the same float64; the loader rejects it if it is not a whole number of
// picodollars.
func decimal(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// window converts the dataset's daily window ("00:30:00Z" to "16:30:00Z")
// to the price file's "00:30-16:30".
func window(start, end string) (string, error) {
	s, err := clock(start)
	if err != nil {
		return "", err
	}
	e, err := clock(end)
	if err != nil {
		return "", err
	}
	return s + "-" + e, nil
}

func clock(t string) (string, error) {
	t = strings.TrimSuffix(t, "Z")
	if len(t) == 8 && strings.HasSuffix(t, ":00") {
		t = t[:5]
	}
	if len(t) != 5 && len(t) != 8 {
		return "", fmt.Errorf("time of day %q is not HH:MM:SSZ", t)
	}
	return t, nil
}
