package budget

import (
	"reflect"
	"testing"

	"github.com/usageledger/usageledger/internal/ledger"
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
			// agent-a and agent-c are both one letter away: the first in
			// byte order is named.
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
		{Key: "budgets::connections[5]", Org: "globex", Connection: "agent-b/openai", Missing: "connection",
			Closest: "agent-a/openai"},
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

func TestClosestAllowsAThirdOfTheLetters(t *testing.T) {
	for _, c := range []struct {
		name  string
		names []string
		want  string
	}{
		{"abc", []string{"abd"}, "abd"},          // 1 of 3: the least limit is one
		{"abc", []string{"xyc"}, ""},             // 2 of 3
		{"abcdef", []string{"abxyef"}, "abxyef"}, // 2 of 6
		{"abcdef", []string{"axyzef"}, ""},       // 3 of 6
		{"abcdef", []string{"abcdefgh"}, "abcdefgh"},
		{"abcdef", []string{"abcdefghi"}, ""}, // three letters longer
		{"zürich", []string{"zurich"}, "zurich"},
		{"x", nil, ""},
	} {
		if got := closest(c.name, c.names); got != c.want {
			t.Errorf("closest(%q, %q) = %q, want %q", c.name, c.names, got, c.want)
		}
	}
}
