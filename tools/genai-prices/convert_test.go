package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/pricing"
)

// fixture is a small release in the dataset's shape, written by hand.
const fixture = `[
 {"id": "anthropic", "pricing_urls": ["https://www.anthropic.com/pricing#api"], "models": [
  {"id": "claude-sonnet-4-5",
   "match": {"or": [{"starts_with": "claude-sonnet-4-5"}, {"starts_with": "claude-sonnet-4.5"}]},
   "prices": {"input_mtok": {"base": 3, "tiers": [{"start": 200000, "price": 6}]},
              "cache_write_mtok": 3.75, "cache_read_mtok": 0.3, "output_mtok": 15,
              "cache_write_1h_mtok": 6, "web_searches_kcount": 10}}]},
 {"id": "openai", "pricing_urls": ["https://platform.openai.com/docs/pricing"], "models": [
  {"id": "gpt-4o", "match": {"or": [{"equals": "gpt-4o"}, {"equals": "gpt-4o-2024-08-06"}]},
   "prices": {"input_mtok": 2.5, "cache_read_mtok": 1.25, "output_mtok": 10, "input_audio_mtok": 40}},
  {"id": "o3", "match": {"equals": "o3"},
   "prices": [{"prices": {"input_mtok": 10, "output_mtok": 40}},
              {"constraint": {"type": "start_date", "start_date": "2025-06-10"},
               "prices": {"input_mtok": 2, "output_mtok": 8}}]},
  {"id": "whisper-1", "match": {"equals": "whisper-1"}, "prices": {"audio_hours": 0.36}},
  {"id": "moderation", "match": {"contains": "moderation"}, "prices": {}}]},
 {"id": "deepseek", "pricing_urls": ["https://api-docs.deepseek.com/quick_start/pricing"], "models": [
  {"id": "deepseek-chat", "match": {"equals": "deepseek-chat"},
   "prices": [{"prices": {"input_mtok": 0.135, "output_mtok": 0.55}},
              {"constraint": {"type": "time_of_date", "start_time": "00:30:00Z", "end_time": "16:30:00Z"},
               "prices": {"input_mtok": 0.27, "output_mtok": 1.1}}]},
  {"id": "deepseek-v4-flash", "match": {"equals": "deepseek-v4-flash"},
   "prices": [{"prices": {"input_mtok": 0.14, "output_mtok": 0.28}},
              {"constraint": {"type": "start_date", "start_date": "2026-08-17"},
               "prices": {"input_mtok": 0.22, "output_mtok": 0.66}},
              {"constraint": {"type": "time_of_date", "start_time": "01:00:00Z", "end_time": "04:00:00Z"},
               "prices": {"input_mtok": 0.44, "output_mtok": 1.32}}]}]},
 {"id": "azure", "pricing_urls": ["https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/"],
  "fallback_model_providers": ["openai", "unknown-reseller"], "models": []}
]`

func fixtureRelease(t *testing.T) release {
	t.Helper()
	var providers []dsProvider
	require.NoError(t, json.Unmarshal([]byte(fixture), &providers))
	return release{Version: "9.9.9", Published: "2026-09-23", Providers: providers}
}

func TestConvertFixture(t *testing.T) {
	saved := providerNames
	t.Cleanup(func() { providerNames = saved })
	providerNames = []struct{ dataset, name string }{
		{"anthropic", "anthropic"}, {"openai", "openai"}, {"deepseek", "deepseek"}, {"azure", "azure.ai.openai"},
	}

	rel := fixtureRelease(t)
	entries, fallbacks, n, err := convert(rel)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"azure.ai.openai": {"openai"}}, fallbacks)
	assert.Equal(t, []string{"openai whisper-1: no token or call price"}, dedupe(n.skipped))

	data := render(rel, entries, fallbacks, n)
	table, err := pricing.Compile([]pricing.Source{{Name: "prices.json", Data: data}}, pricing.Options{})
	require.NoError(t, err, string(data))
	assert.Equal(t, "@pydantic/genai-prices 9.9.9", table.Dataset())
	// claude-sonnet-4-5, gpt-4o, o3 twice, moderation, deepseek-chat twice,
	// deepseek-v4-flash three times.
	assert.Equal(t, 10, table.Len())

	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p, ok := table.Lookup("anthropic", "claude-sonnet-4-5-20250929", at) // starts_with: dated versions fold in
	require.True(t, ok)
	assert.Equal(t, pricing.Rates{Input: 3_000_000, Output: 15_000_000, CacheRead: 300_000,
		CacheWrite: 3_750_000, CacheWrite1h: 6_000_000}, p.Rates)
	// Only input is tiered; the other rates stay in the tier.
	assert.Equal(t, pricing.LongContext{Above: 200_000, Rates: pricing.Rates{Input: 6_000_000,
		Output: 15_000_000, CacheRead: 300_000, CacheWrite: 3_750_000, CacheWrite1h: 6_000_000}}, p.LongContext)
	assert.Equal(t, int64(10_000_000_000), p.WebSearch) // $10 / 1,000
	assert.Equal(t, "https://www.anthropic.com/pricing#api (read 2026-09-23)", p.Source)

	_, ok = table.Lookup("anthropic", "claude-sonnet-4.5", at) // a starts_with value is a name
	assert.True(t, ok)
	_, ok = table.Lookup("openai", "gpt-4o-2024-08-06", at)
	assert.True(t, ok)
	_, ok = table.Lookup("openai", "gpt-4o-2024-11-20", at) // equals rules only: not folded
	assert.False(t, ok)
	_, ok = table.Lookup("openai", "whisper-1", at)
	assert.False(t, ok)

	p, ok = table.Lookup("openai", "moderation", at) // no prices at all: free
	require.True(t, ok)
	assert.Zero(t, p.Input)
	p, ok = table.Lookup("openai", "o3", time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, int64(10_000_000), p.Input)
	p, ok = table.Lookup("openai", "o3", time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, int64(2_000_000), p.Input)

	// Daily windows: deepseek-chat costs $0.27 from 00:30 to 16:30 UTC and
	// $0.135 otherwise.
	f := func(model string, at time.Time, want int64) {
		t.Helper()
		p, ok := table.Lookup("deepseek", model, at)
		require.True(t, ok, "%s at %s", model, at)
		assert.Equal(t, want, p.Input, "%s at %s", model, at)
	}
	f("deepseek-chat", time.Date(2026, 12, 1, 0, 29, 59, 0, time.UTC), 135_000)
	f("deepseek-chat", time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC), 270_000)
	f("deepseek-chat", time.Date(2026, 12, 1, 16, 29, 59, 0, time.UTC), 270_000)
	f("deepseek-chat", time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC), 135_000)
	// A window listed after a dated price takes effect with it: before
	// 2026-08-17 the flat $0.14 applies at every hour; from then $0.44 in
	// the 01:00-04:00 window and $0.22 outside it.
	f("deepseek-v4-flash", time.Date(2026, 8, 16, 2, 0, 0, 0, time.UTC), 140_000)
	f("deepseek-v4-flash", time.Date(2026, 8, 17, 2, 0, 0, 0, time.UTC), 440_000)
	f("deepseek-v4-flash", time.Date(2026, 8, 17, 5, 0, 0, 0, time.UTC), 220_000)
}

func TestConvertPriceRejects(t *testing.T) {
	f := func(prices, wantMsg string) {
		t.Helper()
		var cp conditionalPrice
		require.NoError(t, json.Unmarshal([]byte(`{"prices": `+prices+`}`), &cp))
		_, _, err := convertPrice(cp, "m")
		require.Error(t, err)
		assert.Contains(t, err.Error(), wantMsg)
	}
	f(`{"input_mtok": {"base": 1, "tiers": [{"start": 100, "price": 2}]},
	    "output_mtok": {"base": 1, "tiers": [{"start": 200, "price": 2}]}}`,
		"starts its tier at 200, another price at 100")
	f(`{"input_mtok": {"base": 1, "tiers": [{"start": 100, "price": 2}, {"start": 200, "price": 3}]}}`,
		"has 2 tiers; expecting at most one")
	f(`{"input_mtok": "3"}`, "price input_mtok")
}

func TestRule(t *testing.T) {
	var r rule
	require.NoError(t, json.Unmarshal([]byte(`{"or": [
		{"equals": "GPT-X"}, {"starts_with": "gpt-x-"}, {"contains": "x-mini"},
		{"regex": "^gpt-y-\\d{4}$"}, {"regex": "^(?!no)look"},
		{"and": [{"starts_with": "a"}, {"ends_with": "z"}]}]}`), &r))
	for name, want := range map[string]bool{
		"gpt-x": true, "GPT-x-2025": true, "some-x-mini-thing": true, "gpt-y-2025": true,
		"gpt-y-20250": false, "lookahead": false, // Go cannot compile the lookahead: matches nothing
		"abcz": true, "abc": false, "gpt-xl": false,
	} {
		assert.Equal(t, want, r.matches(name), name)
	}
	// Names: equals values, and starts_with/contains values ending in a
	// name character; nothing from a conjunction.
	assert.Equal(t, []string{"gpt-x", "x-mini"}, r.names())
}
