package budget

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

func knownConnections(pairs ...string) []ledger.Connection {
	var known []ledger.Connection
	for i := 0; i < len(pairs); i += 2 {
		known = append(known, ledger.Connection{ConnectionID: ledger.ConnectionID{Org: pairs[i], Connection: pairs[i+1]}})
	}
	return known
}

func TestUnmatchedNamesTheBudgetsTheLedgerHasNoCallsOf(t *testing.T) {
	known := knownConnections(
		"acme", "support-bot/openai",
		"acme", "billing-agent/anthropic",
		"globex", "crm/openai",
		"globex", "agent-c/openai",
		"globex", "agent-a/openai",
	)
	cfg := Config{
		Organizations: []Organization{
			{Org: "acme", MonthlyUSD: "500"},
			{Org: "acmee", MonthlyUSD: "500"},   // one letter too many
			{Org: "initech", MonthlyUSD: "500"}, // nothing like it recorded
		},
		Connections: []Connection{
			{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "99"},
			{Org: "acme", Connection: "suport-bot/openai", MonthlyUSD: "99"},
			{Org: "acme", Connection: "Support-Bot/OpenAI", MonthlyUSD: "99"},
			{Org: "acme", Connection: "new-agent/openai", MonthlyUSD: "99"},
			{Org: "globexx", Connection: "crm/openai", MonthlyUSD: "99"},
			// A new member of a series, one letter from agent-a and
			// agent-c: no suggestion.
			{Org: "globex", Connection: "agent-b/openai", MonthlyUSD: "99"},
		},
	}
	want := []Unmatched{
		{Key: "budgets::organizations[1]", Org: "acmee", Missing: "organization", Closest: "acme"},
		{Key: "budgets::organizations[2]", Org: "initech", Missing: "organization"},
		{Key: "budgets::connections[1]", Org: "acme", Connection: "suport-bot/openai", Missing: "connection",
			Closest: "support-bot/openai"},
		{Key: "budgets::connections[2]", Org: "acme", Connection: "Support-Bot/OpenAI", Missing: "connection",
			Closest: "support-bot/openai"},
		{Key: "budgets::connections[3]", Org: "acme", Connection: "new-agent/openai", Missing: "connection"},
		{Key: "budgets::connections[4]", Org: "globexx", Connection: "crm/openai", Missing: "organization",
			Closest: "globex"},
		{Key: "budgets::connections[5]", Org: "globex", Connection: "agent-b/openai", Missing: "connection"},
	}
	if got := cfg.Unmatched(known); !reflect.DeepEqual(got, want) {
		t.Errorf("Unmatched:\n got %+v\nwant %+v", got, want)
	}
}

func TestUnmatchedIsQuietOnANewLedgerAndWhenAllMatch(t *testing.T) {
	cfg := Config{
		Organizations: []Organization{{Org: "acme", MonthlyUSD: "500"}},
		Connections:   []Connection{{Org: "acme", Connection: "support-bot/openai", MonthlyUSD: "99"}},
	}
	if got := cfg.Unmatched(nil); got != nil {
		t.Errorf("a ledger without calls: got %+v, want nothing", got)
	}
	if got := cfg.Unmatched(knownConnections("acme", "support-bot/openai")); got != nil {
		t.Errorf("every budget recorded: got %+v, want nothing", got)
	}
}

func TestClosestAllowsTwoLettersAndAQuarterAndNoSibling(t *testing.T) {
	for _, c := range []struct {
		name  string
		names []string
		want  string
	}{
		{"abc", []string{"ABC"}, "ABC"},                        // case aside, any length
		{"acm", []string{"acme"}, "acme"},                      // a quarter of the longer name
		{"abc", []string{"abd"}, ""},                           // both shorter than four letters
		{"acmee", []string{"acme"}, "acme"},                    // 1 of 5
		{"abcdefgh", []string{"abxyefgh"}, "abxyefgh"},         // 2 of 8
		{"abcdefgh", []string{"axyzefgh"}, ""},                 // 3 of 8
		{"abcdefghijklmnop", []string{"abcxyzghijklmnop"}, ""}, // 3 of 16: two at most
		{"abcdefgh", []string{"abcdefghij"}, "abcdefghij"},     // 2 of 10
		{"abcdefgh", []string{"abcdefghijk"}, ""},              // three letters longer
		{"abcdefgh", []string{"abcdefgx", "abcdefgy"}, ""},     // two equally near
		{"suport-bot/openai", []string{"support-bot/openai"}, "support-bot/openai"},
		{"support_bot/openai", []string{"support-bot/openai"}, "support-bot/openai"},
		{"supportbot/openai", []string{"support-bot/openai"}, "support-bot/openai"},
		{"zürich", []string{"zurich"}, "zurich"},
		// Names of a series, not misspellings.
		{"team-b", []string{"team-a"}, ""},
		{"org-1234", []string{"org-1233"}, ""},
		{"agent-10/openai", []string{"agent-1/openai"}, ""},
		{"agent-v2/openai", []string{"agent-v1/openai"}, ""},
		{"support-bot/openai-eu", []string{"support-bot/openai-us"}, ""},
		{"support-bot/gpt-4", []string{"support-bot/gpt-4o"}, ""},
		{"sales-agent/openai", []string{"care-agent/openai"}, ""},
		{"billing-bot/openai", []string{"billing-bot/azure"}, ""},
		{"overflow", []string{usage.OverflowName}, ""}, // never suggested
		{"x", nil, ""},
	} {
		n := nearest{left: maxDistances}
		if got := n.closest(c.name, newNameIndex(slices.Values(c.names))); got != c.want {
			t.Errorf("closest(%q, %q) = %q, want %q", c.name, c.names, got, c.want)
		}
	}
}

func TestClosestSkipsABudgetItsDistancesCannotFinish(t *testing.T) {
	names := newNameIndex(slices.Values([]string{"agent-one/openai", "agent-two/openai", "agent-six/openai", "agent-seventy/openai"}))
	n := nearest{left: 2}
	if got := n.closest("agent-onx/openai", names); got != "" {
		t.Errorf("three names of a near length and two distances left: got %q, want none", got)
	}
	if n.left != 2 {
		t.Errorf("%d distances left, want the 2 a budget that cannot finish leaves", n.left)
	}
	n = nearest{left: 3}
	if got := n.closest("agent-onx/openai", names); got != "agent-one/openai" {
		t.Errorf("three distances left: got %q, want agent-one/openai", got)
	}
	if n.left != 0 {
		t.Errorf("%d distances left, want 0", n.left)
	}

	many := make(map[string]struct{}, maxCandidates+1)
	for i := range maxCandidates + 1 {
		many[fmt.Sprintf("agent-%06d/openai", i)] = struct{}{}
	}
	many["support-bot/openai"] = struct{}{}
	n = nearest{left: maxDistances}
	if got := n.closest("suport-bot/openai", newNameIndex(maps.Keys(many))); got != "" || n.left != maxDistances {
		t.Errorf("more candidates than one budget may compute: got %q with %d distances left, want none and %d",
			got, n.left, maxDistances)
	}
}

func TestUnmatchedNamesTheOverflowRowTheCallsMayBeIn(t *testing.T) {
	known := knownConnections(
		"acme", "support-bot/openai",
		"acme", usage.OverflowName, // acme's connections past the limit
		usage.OverflowName, usage.OverflowName, // organizations past the limit
		"globex", "crm/openai",
	)
	cfg := Config{
		Organizations: []Organization{{Org: "initech", MonthlyUSD: "500"}},
		Connections: []Connection{
			{Org: "acme", Connection: "billing-bot/openai", MonthlyUSD: "99"},
			{Org: "globex", Connection: "sales/openai", MonthlyUSD: "99"},
		},
	}
	want := []Unmatched{
		{Key: "budgets::organizations[0]", Org: "initech", Missing: "organization", Overflow: usage.OverflowName},
		{Key: "budgets::connections[0]", Org: "acme", Connection: "billing-bot/openai", Missing: "connection",
			Overflow: "acme/" + usage.OverflowName},
		{Key: "budgets::connections[1]", Org: "globex", Connection: "sales/openai", Missing: "connection"},
	}
	if got := cfg.Unmatched(known); !reflect.DeepEqual(got, want) {
		t.Errorf("Unmatched:\n got %+v\nwant %+v", got, want)
	}
}
