package genaiusageprocessor

import (
	"context"
	"math"
	"sort"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
)

// usageKeys are the attributes whose values the fuzzer varies: every usage
// name of every dialect, in a fixed order.
var usageKeys = func() []string {
	keys := make([]string, 0, len(usageNames))
	for k := range usageNames {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}()

// putFuzzValue writes one value of a kind chosen by kind into attrs.
func putFuzzValue(attrs pcommon.Map, key string, kind uint8, n int64, f float64, s string) {
	switch kind % 8 {
	case 0:
		attrs.PutInt(key, n)
	case 1:
		attrs.PutDouble(key, f)
	case 2:
		attrs.PutStr(key, s)
	case 3:
		attrs.PutBool(key, n%2 == 0)
	case 4:
		attrs.PutEmptySlice(key).AppendEmpty().SetStr(s)
	case 5:
		attrs.PutEmptyMap(key).PutInt("n", n)
	case 6:
		attrs.PutEmptyBytes(key).FromRaw([]byte(s))
	case 7:
		attrs.PutEmpty(key)
	}
}

func FuzzProcessSpan(f *testing.F) {
	f.Add("chat", "openai", "gpt-4o-mini", "acme", "bot", "", "", uint8(0), int64(120), 120.0, "120", uint8(0), int64(3))
	f.Add("", "az.ai.openai", "gpt-4o", "", "", "RateLimitError", "429", uint8(1), int64(-1), 12.5, "x", uint8(2), int64(2))
	f.Add("invoke_agent", "anthropic.messages", "claude-sonnet-4-5", "\xff", " ", "", "guardrail", uint8(2),
		int64(math.MaxInt64), math.Inf(1), "99999999999999999999", uint8(5), int64(1))
	f.Add("embeddings", "", "", "", "", "", "", uint8(3), int64(1e9), 1e9, "1000000000", uint8(7), int64(0))
	f.Add("", "anthropic.messages", "claude-sonnet-4-5", "", "", "", "ot=th:8", uint8(6), int64(100), 1.0,
		`{"anthropic":{"usage":{"input_tokens":-1,"cache_read_input_tokens":1e99}}}`, uint8(0), int64(3))

	// One processor per span cost policy, so that the span's own cost, also
	// fuzzed, is ignored, charged or compared.
	procs := [...]*usageProcessor{
		newTestProcessor(f, nil),
		newPricedProcessor(f, pricing.SpanCostReported, ""),
		newPricedProcessor(f, pricing.SpanCostCompare, ""),
	}
	f.Fuzz(func(t *testing.T, op, provider, model, org, agent, errorType, message string,
		kind uint8, n int64, fl float64, s string, valueKind uint8, spanKind int64,
	) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("tenant.id", org)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetKind(ptrace.SpanKind(spanKind % 6))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(testEnd))
		attrs := span.Attributes()
		attrs.PutStr("gen_ai.operation.name", op)
		attrs.PutStr("gen_ai.system", provider)
		attrs.PutStr("gen_ai.request.model", model)
		attrs.PutStr("gen_ai.agent.name", agent)
		if errorType != "" {
			attrs.PutStr("error.type", errorType)
		}
		if kind%3 == 0 {
			// A Vercel AI SDK span, whose provider metadata is fuzzed too.
			attrs.PutStr("ai.operationId", "ai.generateText.doGenerate")
			attrs.PutStr("ai.response.providerMetadata", s)
		}
		span.TraceState().FromRaw(message)
		span.Status().SetMessage(message)
		for i, key := range usageKeys {
			putFuzzValue(attrs, key, valueKind+uint8(i)*kind, n+int64(i), fl, s)
		}
		for i, key := range reportedCostAttrs {
			putFuzzValue(attrs, key, valueKind+uint8(i)+kind, n, fl, s)
		}
		attrs.PutStr("openai.response.service_tier", s)
		p := procs[int(valueKind)%len(procs)]

		out, err := p.processTraces(context.Background(), td)
		if err != nil {
			t.Fatalf("processTraces: %v", err)
		}
		if out.SpanCount() != 1 {
			t.Fatalf("span count %d; want 1", out.SpanCount())
		}
		if !isCounted(attrs) {
			return
		}
		checkCounted(t, attrs)

		// A second run leaves a counted span as it is.
		first := attrs.AsRaw()
		if _, err := p.processTraces(context.Background(), td); err != nil {
			t.Fatalf("second processTraces: %v", err)
		}
		if len(attrs.AsRaw()) != len(first) {
			t.Fatalf("second run changed the span: %v then %v", first, attrs.AsRaw())
		}
	})
}

// checkCounted verifies the invariants of a counted span's attributes.
func checkCounted(t *testing.T, attrs pcommon.Map) {
	t.Helper()
	outcome, _ := attrs.Get(usage.AttrOutcome)
	if _, ok := usage.ParseOutcome(outcome.Str()); !ok {
		t.Fatalf("outcome %q is not an outcome", outcome.Str())
	}
	for _, key := range []string{usage.AttrOrg, usage.AttrConnection, usage.AttrProvider, usage.AttrModel} {
		v, ok := attrs.Get(key)
		if !ok || v.Str() == "" {
			t.Fatalf("%s is missing or empty", key)
		}
	}
	count := func(key string) int64 {
		v, ok := attrs.Get(key)
		if !ok {
			return 0
		}
		if v.Type() != pcommon.ValueTypeInt || v.Int() < 0 {
			t.Fatalf("%s = %v; want a non-negative int", key, v.AsRaw())
		}
		return v.Int()
	}
	input, output := count(usage.AttrInputTokens), count(usage.AttrOutputTokens)
	if input < count(usage.AttrCacheReadTokens)+count(usage.AttrCacheWriteTokens) {
		t.Fatalf("input %d smaller than its cache parts", input)
	}
	if output < count(usage.AttrReasoningTokens) {
		t.Fatalf("output %d smaller than reasoning", output)
	}
	if _, ok := attrs.Get(usage.AttrCostPicoUSD); ok {
		count(usage.AttrCostPicoUSD)
		if _, unpriced := attrs.Get(usage.AttrUnpriced); unpriced {
			t.Fatal("a call with a cost is marked unpriced")
		}
	}
}
