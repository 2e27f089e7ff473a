package usageledgerexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/usageledger/usageledger/internal/usage"
)

func TestExpositionText(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	labels := func(attrs map[string]any) map[string]any {
		return with(attrs, usage.AttrTeam, "support", usage.AttrCostCenter, "cc-1")
	}
	r.consume(t, tracesOf(t,
		span{nov10, labels(with(call("acme", "bot/openai", "gpt-4o"),
			usage.AttrInputTokens, 1200, usage.AttrOutputTokens, 300,
			usage.AttrCacheReadTokens, 200, usage.AttrCacheWriteTokens, 100,
			usage.AttrReasoningTokens, 50, usage.AttrCostPicoUSD, 36_000_000))},
		span{nov10.Add(time.Minute), labels(with(call("acme", "bot/openai", "gpt-4o"),
			usage.AttrOutcome, "blocked"))},
	))

	// Two calls, one blocked; the tokens and the 36,000,000 pUSD (3.6e-05
	// USD) are the first call's. The connection was last seen at the
	// blocked call, 2026-11-10T09:31:00Z = 1794303060 s.
	const l = `org="acme",connection="bot/openai",model="gpt-4o",month="2026-11"`
	want := `# HELP genai_connection_requests_total Counted calls, all outcomes.
# TYPE genai_connection_requests_total counter
genai_connection_requests_total{` + l + `} 2
# HELP genai_connection_blocked_total Calls a guardrail stopped before the model ran.
# TYPE genai_connection_blocked_total counter
genai_connection_blocked_total{` + l + `} 1
# HELP genai_connection_rate_limited_total Calls a rate limit or quota throttled.
# TYPE genai_connection_rate_limited_total counter
genai_connection_rate_limited_total{` + l + `} 0
# HELP genai_connection_errors_total Calls that failed for another reason.
# TYPE genai_connection_errors_total counter
genai_connection_errors_total{` + l + `} 0
# HELP genai_connection_filtered_total Answered calls whose answer a content filter cut.
# TYPE genai_connection_filtered_total counter
genai_connection_filtered_total{` + l + `} 0
# HELP genai_connection_unpriced_requests_total Calls no price matched; their cost is not in the cost total.
# TYPE genai_connection_unpriced_requests_total counter
genai_connection_unpriced_requests_total{` + l + `} 0
# HELP genai_connection_usage_missing_total Calls that reported no token usage.
# TYPE genai_connection_usage_missing_total counter
genai_connection_usage_missing_total{` + l + `} 0
# HELP genai_connection_tokens_total Tokens by type: input includes cache reads and writes, output includes reasoning.
# TYPE genai_connection_tokens_total counter
genai_connection_tokens_total{` + l + `,type="input"} 1200
genai_connection_tokens_total{` + l + `,type="output"} 300
genai_connection_tokens_total{` + l + `,type="cache_read"} 200
genai_connection_tokens_total{` + l + `,type="cache_write"} 100
genai_connection_tokens_total{` + l + `,type="reasoning"} 50
# HELP genai_connection_cost_usd_total Cost in USD, a view of the exact amount in the ledger.
# TYPE genai_connection_cost_usd_total counter
genai_connection_cost_usd_total{` + l + `} 3.6e-05
# HELP genai_connection_last_seen_timestamp_seconds Unix time of the connection's latest call.
# TYPE genai_connection_last_seen_timestamp_seconds gauge
genai_connection_last_seen_timestamp_seconds{org="acme",connection="bot/openai"} 1.79430306e+09
# HELP genai_connection_info Chargeback labels of the connection as of its latest call; always 1.
# TYPE genai_connection_info gauge
genai_connection_info{org="acme",connection="bot/openai",team="support",cost_center="cc-1"} 1
`
	got, _ := r.scrape(t)
	assert.Equal(t, want, got)
}

func TestExpositionEscapesLabelValues(t *testing.T) {
	cfg := testConfig(t)
	cfg.PinnedMonths = []string{"2026-11"}
	r := start(t, cfg)

	r.consume(t, tracesOf(t,
		span{nov10, with(call(`say "hi"`, `C:\bots\`, "line\nbreak"),
			usage.AttrTeam, "tab\there", usage.AttrCostCenter, "{a=\"1\",b}")},
		// Two names that differ only in bytes that are not UTF-8 both read
		// as U+FFFD; their requests add up: 1 + 1 = 2.
		span{nov10, call("org\xff", "conn", "m")},
		span{nov10, call("org\xfe", "conn", "m")},
	))

	_, samples := r.scrape(t)
	// Label values as a Prometheus parser reads them back.
	assert.Equal(t, 1.0, samples["genai_connection_requests_total{connection=C:\\bots\\,model=line\nbreak,month=2026-11,org=say \"hi\"}"])
	assert.Equal(t, 1.0, samples["genai_connection_info{connection=C:\\bots\\,cost_center={a=\"1\",b},org=say \"hi\",team=tab\there}"])
	assert.Equal(t, 2.0, samples["genai_connection_requests_total{connection=conn,model=m,month=2026-11,org=org\uFFFD}"])
	assert.Contains(t, samples, "genai_connection_info{connection=conn,cost_center=,org=org\uFFFD,team=}")
}

func TestLabelValue(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := labelValue(in); got != want {
			t.Fatalf("unexpected escaping of %q; got %q; want %q", in, got, want)
		}
	}
	f("", "")
	f("support-bot/openai", "support-bot/openai")
	f(`a"b`, `a\"b`)
	f(`a\b`, `a\\b`)
	f(`trailing\`, `trailing\\`)
	f("a\nb", `a\nb`)
	f(`\"`, `\\\"`)
	f("tab\tcr\r", "tab\tcr\r")
	f("bad\xffutf8", "bad\uFFFDutf8")
	f("日本", "日本")
}
