package genaiusageprocessor

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestKnownKeys holds the key index to every name the readers consult, and
// to none other: names that share a known name's length and last eight
// bytes, or differ from one in a single byte, are not it.
func TestKnownKeys(t *testing.T) {
	for s, name := range slotKeys {
		k := knownKeys.lookup(name)
		require.NotNil(t, k, name)
		assert.True(t, k.isSlot, name)
		assert.Equal(t, attrSlot(s), k.slot, name)
		_, isUsage := usageNames[name]
		assert.Equal(t, isUsage, k.isUsage, name)
	}
	for name, u := range usageNames {
		k := knownKeys.lookup(name)
		require.NotNil(t, k, name)
		assert.True(t, k.isUsage, name)
		assert.Equal(t, u, k.usage, name)
	}
	for _, name := range []string{
		"", "ai.", "gen_ai.", "tool.nam", "gen_ai.usage.input_token", "gen_ai.usage.input_tokens ",
		"Gen_ai.usage.input_tokens", "gen_ai.usage.inpux_tokens", "xen_ai.usage.input_tokens",
		"gen_ai.operation.name", "gen_ai.conversation.id", "http.route", "service.name",
		// The length and last eight bytes of gen_ai.response.model.
		"gen_ai.xxxxxxse.model",
	} {
		assert.Nil(t, knownKeys.lookup(name), name)
	}
}

// TestIdentityValue covers the names identityValue leaves as they are
// and those it cleans: white space around a name, bytes that are not
// UTF-8, a name too long for a ledger key.
func TestIdentityValue(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		assert.Equal(t, want, identityValue(in), "%q", in)
	}
	f("", "")
	f("acme", "acme")
	f("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18")
	f(" acme", "acme")
	f("acme\t", "acme")
	f("\n acme \r", "acme")
	f("   ", "")
	// Other control bytes are not white space and stay.
	f("\x01acme\x7f", "\x01acme\x7f")
	// U+00A0 (no-break space) and U+0085 (next line) are white space.
	f("acme\u00a0", "acme")
	f("\u0085acme", "acme")
	f("ac\xffme", "ac\uFFFDme")
	f("café", "café")
	// 256 bytes are kept; 257 are cut to 236, "…" and 16 hex digits.
	f(strings.Repeat("a", 256), strings.Repeat("a", 256))
	got := identityValue(strings.Repeat("a", 257))
	assert.Len(t, got, 255)
	assert.True(t, strings.HasPrefix(got, strings.Repeat("a", 236)+"…"), got)
}

// TestIdentityBeyondIndexedKeys gives a configuration more distinct
// identity keys than spanAttrs keeps values for: a span's value under a
// key past them is read as well as one before them.
func TestIdentityBeyondIndexedKeys(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.OrgKeys = nil
	for i := range maxIndexedIdentityKeys + 4 {
		cfg.OrgKeys = append(cfg.OrgKeys, "org.key."+strconv.Itoa(i))
	}
	p := newTestProcessor(t, cfg)

	last := "org.key." + strconv.Itoa(maxIndexedIdentityKeys+3)
	got := process(t, p, spanSpec{attrs: chat(map[string]any{last: "initech"})})
	assert.Equal(t, "initech", got["usageledger.org"])

	// A key earlier in the list wins, wherever it is kept.
	got = process(t, p, spanSpec{attrs: chat(map[string]any{"org.key.2": "umbrella", last: "initech"})})
	assert.Equal(t, "umbrella", got["usageledger.org"])

	// Without any, the resource's value under a key past them counts.
	got = process(t, p, spanSpec{
		resource: map[string]any{last: "hooli"},
		attrs:    chat(nil),
	})
	assert.Equal(t, "hooli", got["usageledger.org"])
}

// TestRepeatedKeysFirstValue covers a span from the wire that holds the
// same names twice: the first value of each is the one read, as a reader
// of the span sees it.
func TestRepeatedKeysFirstValue(t *testing.T) {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(`{"resourceSpans":[{
		"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"support-bot"}}]},
		"scopeSpans":[{"spans":[{
		"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"chat","kind":3,
		"endTimeUnixNano":"1796318191067033479","attributes":[
		{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
		{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},
		{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
		{"key":"tenant.id","value":{"stringValue":"acme"}},
		{"key":"tenant.id","value":{"stringValue":"initech"}},
		{"key":"gen_ai.response.model","value":{"stringValue":"claude-sonnet-4-5"}},
		{"key":"gen_ai.response.model","value":{"stringValue":"gpt-4o-mini"}}]}]}]}]}`))
	require.NoError(t, err)
	out, err := newTestProcessor(t, nil).processTraces(context.Background(), td)
	require.NoError(t, err)

	attrs := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	for key, want := range map[string]string{
		"usageledger.provider":   "anthropic",
		"usageledger.org":        "acme",
		"usageledger.connection": "support-bot/anthropic",
		"usageledger.model":      "claude-sonnet-4-5",
	} {
		v, ok := attrs.Get(key)
		require.True(t, ok, key)
		assert.Equal(t, want, v.Str(), key)
	}
}

// TestDerivedSpanDoesNotAllocate keeps reading a call's attributes free of
// allocations: the values it keeps are the span's own.
func TestDerivedSpanDoesNotAllocate(t *testing.T) {
	span := ptrace.NewSpan()
	openAIChat(span)
	span.Attributes().PutStr("tenant.id", "acme")
	ids := newIdentityReader(createDefaultConfig().(*Config)).keys
	var a spanAttrs
	allocs := testing.AllocsPerRun(100, func() {
		a.reset()
		a.read(span.Attributes(), ids)
	})
	assert.Zero(t, allocs)
	v, ok := a.identityValue(0, "tenant.id")
	require.True(t, ok)
	assert.Equal(t, "acme", v.Str())
	assert.Equal(t, pcommon.ValueTypeSlice, a.values[slotFinishReasons].Type())
}
