package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// dsProvider is a provider as the dataset describes it.
type dsProvider struct {
	ID                     string    `json:"id"`
	PricingURLs            []string  `json:"pricing_urls"`
	FallbackModelProviders []string  `json:"fallback_model_providers"`
	Models                 []dsModel `json:"models"`
}

// dsModel is one model of a provider, with the rule that matches the names
// calls report for it and its prices.
type dsModel struct {
	ID     string          `json:"id"`
	Match  rule            `json:"match"`
	Prices json.RawMessage `json:"prices"`
}

// rule is the dataset's name-matching logic: exactly one field is set.
// Matching ignores case, as the dataset's own implementation does.
type rule struct {
	Or         []rule  `json:"or"`
	And        []rule  `json:"and"`
	Equals     *string `json:"equals"`
	StartsWith *string `json:"starts_with"`
	EndsWith   *string `json:"ends_with"`
	Contains   *string `json:"contains"`
	Regex      *string `json:"regex"`
}

// matches reports whether name matches the rule. A regular expression Go
// cannot compile (the dataset writes JavaScript ones) matches nothing, so a
// name is never folded into a model on its account.
func (r rule) matches(name string) bool {
	n := strings.ToLower(name)
	switch {
	case r.Or != nil:
		for _, sub := range r.Or {
			if sub.matches(name) {
				return true
			}
		}
		return false
	case r.And != nil:
		for _, sub := range r.And {
			if !sub.matches(name) {
				return false
			}
		}
		return true
	case r.Equals != nil:
		return n == strings.ToLower(*r.Equals)
	case r.StartsWith != nil:
		return strings.HasPrefix(n, strings.ToLower(*r.StartsWith))
	case r.EndsWith != nil:
		return strings.HasSuffix(n, strings.ToLower(*r.EndsWith))
	case r.Contains != nil:
		return strings.Contains(n, strings.ToLower(*r.Contains))
	case r.Regex != nil:
		re, err := regexp.Compile(*r.Regex)
		return err == nil && re.MatchString(name)
	}
	return false
}

// names returns the complete model names the rule spells out: every equals
// value, and starts_with or contains values that are names themselves
// rather than fragments ending in a separator. A conjunction names no single
// model.
func (r rule) names() []string {
	if r.And != nil {
		return nil
	}
	var out []string
	for _, sub := range r.Or {
		out = append(out, sub.names()...)
	}
	if r.Equals != nil && *r.Equals != "" {
		out = append(out, strings.ToLower(*r.Equals))
	}
	for _, v := range []*string{r.StartsWith, r.Contains} {
		if v != nil && endsInNameCharacter(*v) {
			out = append(out, strings.ToLower(*v))
		}
	}
	return out
}

func endsInNameCharacter(s string) bool {
	if s == "" {
		return false
	}
	c := s[len(s)-1]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// conditionalPrice is one element of a model's price history.
type conditionalPrice struct {
	Constraint *struct {
		Type      string `json:"type"`
		StartDate string `json:"start_date"`
		StartTime string `json:"start_time"` // "00:30:00Z"
		EndTime   string `json:"end_time"`
	} `json:"constraint"`
	Prices map[string]json.RawMessage `json:"prices"`
}

// history returns the model's prices: one unconditional element, or a list
// whose elements may start at a date or apply at a time of day.
func (m dsModel) history() ([]conditionalPrice, error) {
	var list []conditionalPrice
	if len(m.Prices) > 0 && m.Prices[0] == '[' {
		if err := json.Unmarshal(m.Prices, &list); err != nil {
			return nil, fmt.Errorf("model %s: prices: %w", m.ID, err)
		}
		return list, nil
	}
	var flat map[string]json.RawMessage
	if err := json.Unmarshal(m.Prices, &flat); err != nil {
		return nil, fmt.Errorf("model %s: prices: %w", m.ID, err)
	}
	return []conditionalPrice{{Prices: flat}}, nil
}

// tiered is a price that changes above an input token count.
type tiered struct {
	Base  float64 `json:"base"`
	Tiers []struct {
		Start int64   `json:"start"`
		Price float64 `json:"price"`
	} `json:"tiers"`
}

// amount reads a price that is either a number or a tiered price.
func amount(raw json.RawMessage) (tiered, error) {
	var t tiered
	if len(raw) > 0 && raw[0] == '{' {
		err := json.Unmarshal(raw, &t)
		return t, err
	}
	err := json.Unmarshal(raw, &t.Base)
	return t, err
}
