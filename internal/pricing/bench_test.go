package pricing

import (
	"testing"
	"time"
)

// BenchmarkLoadBuiltin measures loading the shipped table at start.
func BenchmarkLoadBuiltin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(BuiltinSources(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup measures matching a name and picking the dated price, for
// an exact name and for names that need the later matching steps.
func BenchmarkLookup(b *testing.B) {
	table, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct{ name, provider, model string }{
		{"exact", "openai", "gpt-4o-mini"},
		{"dated", "anthropic", "claude-sonnet-4-5-20250929"},
		{"bedrock", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"fallback", "azure.ai.openai", "gpt-4o"},
		{"unknown", "openai", "gpt-4o-mini-filter"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				table.Lookup(bc.provider, bc.model, at)
			}
		})
	}
}

// BenchmarkCost measures pricing one call's tokens.
func BenchmarkCost(b *testing.B) {
	table, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	p, ok := table.Lookup("anthropic", "claude-sonnet-4-5", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if !ok {
		b.Fatal("claude-sonnet-4-5 is not priced")
	}
	tok := Tokens{Input: 12307, CacheWrite: 12304, Output: 550}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Cost(tok); err != nil {
			b.Fatal(err)
		}
	}
}
