package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/pricing"
	"github.com/usageledger/usageledger/internal/usage"
)

// maxTokenCount is the largest token count read from a span. Larger values
// are not plausible for one call and are treated as malformed.
const maxTokenCount = 1_000_000_000

// tokenCount is one token quantity as a span reported it.
type tokenCount struct {
	n       int64
	present bool
	// rank is the precedence of the name the count was read under; a lower
	// rank wins.
	rank uint8
}

// reportedTokens are the token counts a span reported, before normalization.
type reportedTokens struct {
	input      tokenCount
	output     tokenCount
	cacheRead  tokenCount
	cacheWrite tokenCount
	reasoning  tokenCount
	total      tokenCount
	// cacheWrite1h is the part of cacheWrite written to a one-hour cache;
	// webSearches the searches of the provider's web search tool.
	cacheWrite1h tokenCount
	webSearches  tokenCount

	// inputExcludesCache is true when input is a provider's raw count that
	// leaves out cache reads and writes (Anthropic's input_tokens).
	inputExcludesCache bool

	// held records the standard token count names, for write.
	held [len(standardCounts)]heldCount
}

// standardCounts are the standard names of the counts write keeps
// normalized, in the order of their quantities: each is the rank 0 name of
// quantity(i) in usageNames.
var standardCounts = [...]string{
	usage.AttrInputTokens, usage.AttrOutputTokens, usage.AttrCacheReadTokens,
	usage.AttrCacheWriteTokens, usage.AttrReasoningTokens,
}

// heldCount is what a span holds under one standard token count name: its
// first value under that name, the one Map.Get returns.
type heldCount struct {
	present bool
	isInt   bool
	n       int64
}

// quantity is one of the token quantities a usage attribute reports.
type quantity uint8

const (
	qInput quantity = iota
	qOutput
	qCacheRead
	qCacheWrite
	qReasoning
	qTotal
)

// usageName is what one usage attribute name reports, and its precedence
// among the names of the same quantity.
type usageName struct {
	q    quantity
	rank uint8
}

// usageNames are the flat usage attributes of every dialect the processor
// reads. When a span carries a quantity under several names (a current and
// a deprecated one, or two dialects side by side), the name with the lowest
// rank is used and the others are ignored, so it is never added up. Every
// name here reports inclusive counts: input includes cache reads and
// writes, output includes reasoning; the exceptions are recognized in
// readUsage.
var usageNames = map[string]usageName{
	// OpenTelemetry GenAI semantic conventions, v1.27 to the newest, then
	// their deprecated names (up to v1.26, and Semantic Kernel's older ones).
	"gen_ai.usage.input_tokens":                {qInput, 0},
	"gen_ai.usage.prompt_tokens":               {qInput, 1},
	"gen_ai.response.prompt_tokens":            {qInput, 2},
	"gen_ai.usage.output_tokens":               {qOutput, 0},
	"gen_ai.usage.completion_tokens":           {qOutput, 1},
	"gen_ai.response.completion_tokens":        {qOutput, 2},
	"gen_ai.usage.cache_read.input_tokens":     {qCacheRead, 0},
	"gen_ai.usage.cache_creation.input_tokens": {qCacheWrite, 0},
	"gen_ai.usage.cache_write.input_tokens":    {qCacheWrite, 1},
	"gen_ai.usage.reasoning.output_tokens":     {qReasoning, 0},

	// Underscore spellings: OpenLLMetry before 0.5, Strands, LiteLLM.
	"gen_ai.usage.cache_read_input_tokens":     {qCacheRead, 1},
	"gen_ai.usage.cache_creation_input_tokens": {qCacheWrite, 2},
	"gen_ai.usage.cache_write_input_tokens":    {qCacheWrite, 3},
	"gen_ai.usage.reasoning_tokens":            {qReasoning, 1},
	"llm.usage.reasoning_tokens":               {qReasoning, 2},
	"gen_ai.usage.total_tokens":                {qTotal, 0},
	"llm.usage.total_tokens":                   {qTotal, 1},
	// OpenLIT's OpenAI-shaped details.
	"gen_ai.usage.prompt_tokens_details.cached_tokens":         {qCacheRead, 2},
	"gen_ai.usage.prompt_tokens_details.cache_creation_tokens": {qCacheWrite, 4},
	"gen_ai.usage.completion_tokens_details.reasoning_tokens":  {qReasoning, 3},

	// OpenInference (also Envoy AI Gateway's default mode).
	"llm.token_count.prompt":                       {qInput, 3},
	"llm.token_count.completion":                   {qOutput, 3},
	"llm.token_count.prompt_details.cache_read":    {qCacheRead, 3},
	"llm.token_count.prompt_details.cache_write":   {qCacheWrite, 5},
	"llm.token_count.completion_details.reasoning": {qReasoning, 4},
	"llm.token_count.total":                        {qTotal, 2},

	// Vercel AI SDK: newer names, then the older ones; ai.usage.tokens is
	// the input of an embedding.
	"ai.usage.inputTokens":                        {qInput, 4},
	"ai.usage.promptTokens":                       {qInput, 5},
	"ai.usage.tokens":                             {qInput, 6},
	"ai.usage.outputTokens":                       {qOutput, 4},
	"ai.usage.completionTokens":                   {qOutput, 5},
	"ai.usage.inputTokenDetails.cacheReadTokens":  {qCacheRead, 4},
	"ai.usage.cachedInputTokens":                  {qCacheRead, 5},
	"ai.usage.inputTokenDetails.cacheWriteTokens": {qCacheWrite, 6},
	"ai.usage.outputTokenDetails.reasoningTokens": {qReasoning, 5},
	"ai.usage.reasoningTokens":                    {qReasoning, 6},
	"ai.usage.totalTokens":                        {qTotal, 3},
}

// scopeOpenLLMetryAnthropic is the instrumentation scope of OpenLLMetry's
// JavaScript Anthropic instrumentation. It writes Anthropic's raw
// input_tokens, without the cache, under gen_ai.usage.input_tokens, and the
// cache counts beside it (seen in 0.27.0).
const scopeOpenLLMetryAnthropic = "@traceloop/instrumentation-anthropic"

// readUsage returns the token counts a call to provider reported, as
// spanAttrs.readUsage does.
func readUsage(attrs pcommon.Map, fam families, provider, scope string) (reportedTokens, bool) {
	var a spanAttrs
	a.read(attrs, nil)
	malformed := a.readUsage(fam, provider, scope)
	return a.usage, malformed
}

// readUsage completes a.usage, the flat usage counts read with the span's
// other attributes, into the token counts a call to provider reported, and
// returns whether a usage value was unreadable and ignored. scope is the
// name of the instrumentation scope the span came in.
func (a *spanAttrs) readUsage(fam families, provider, scope string) bool {
	t, malformed := &a.usage, a.usageMalformed
	if fam&famVercel != 0 && a.has(slotAIOperationID) {
		malformed = a.readVercelUsage(provider, t) || malformed
	}
	if provider == "anthropic" && scope == scopeOpenLLMetryAnthropic {
		t.inputExcludesCache = true
	}
	return malformed
}

// mayBeUsageName reports whether key has the prefix (and, under gen_ai.,
// the suffix) of a name in usageNames: every usage name of every dialect
// starts with gen_ai.usage. or gen_ai.response. and ends with _tokens,
// starts with llm.token_count. or llm.usage., or starts with ai.usage.
func mayBeUsageName(key string) bool {
	switch {
	case strings.HasPrefix(key, "gen_ai."):
		return strings.HasSuffix(key, "_tokens") &&
			(strings.HasPrefix(key[len("gen_ai."):], "usage.") ||
				strings.HasPrefix(key[len("gen_ai."):], "response."))
	case strings.HasPrefix(key, "llm."):
		return strings.HasPrefix(key[len("llm."):], "token_count.") ||
			strings.HasPrefix(key[len("llm."):], "usage.")
	default:
		return strings.HasPrefix(key, "ai.usage.")
	}
}

func (t *reportedTokens) slot(q quantity) *tokenCount {
	switch q {
	case qInput:
		return &t.input
	case qOutput:
		return &t.output
	case qCacheRead:
		return &t.cacheRead
	case qCacheWrite:
		return &t.cacheWrite
	case qReasoning:
		return &t.reasoning
	default:
		return &t.total
	}
}

// parseCount reads a token count. It accepts an int in [0, 1e9], and a double
// or a string of decimal digits holding a whole number in that range. Any
// other value (negative, fractional, too large, NaN, bool, array, map,
// bytes, other text) is not a count.
func parseCount(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n := v.Int()
		return n, n >= 0 && n <= maxTokenCount
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if !(f >= 0 && f <= maxTokenCount) || f != math.Trunc(f) {
			return 0, false
		}
		return int64(f), true
	case pcommon.ValueTypeStr:
		// Decimal digits only: ParseInt would also take a sign.
		s := v.Str()
		if s == "" || s[0] < '0' || s[0] > '9' {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n <= maxTokenCount
	default:
		return 0, false
	}
}

// any reports whether the span reported a token count; a total alone does
// not say how it splits and counts as no usage.
func (t *reportedTokens) any() bool {
	return t.input.present || t.output.present || t.cacheRead.present ||
		t.cacheWrite.present || t.reasoning.present
}

// normalized returns the counts with the meaning the ledger uses: input
// includes cache reads and writes, output includes reasoning.
//
// A count reported the other way round is made inclusive by adding its
// parts to it. An input is known to leave the cache out when its dialect
// says so (inputExcludesCache), or when it is smaller than the cache counts
// it would include: a whole cannot be smaller than its parts (Anthropic's
// raw input_tokens, 100, beside 400 cache reads and 300 cache writes is 800
// in all). Likewise an output smaller than its reasoning left reasoning out.
// A reported total tells the other splits: when input + output + reasoning
// equals it and reasoning is not 0, output left reasoning out (Gemini
// reports its thoughts apart); when input + cache reads + cache writes +
// output equals it and the cache counts are not 0, input left the cache out.
// Otherwise a part is never added to its whole again.
func (t *reportedTokens) normalized() pricing.Tokens {
	n := pricing.Tokens{
		Input:      t.input.n,
		Output:     t.output.n,
		CacheRead:  t.cacheRead.n,
		CacheWrite: t.cacheWrite.n,
		Reasoning:  t.reasoning.n,

		CacheWrite1h: t.cacheWrite1h.n,
		WebSearches:  t.webSearches.n,
	}
	// The one-hour writes are part of the cache writes.
	n.CacheWrite = max(n.CacheWrite, n.CacheWrite1h)
	// Each count is at most 1e9, so these sums cannot overflow.
	cache := n.CacheRead + n.CacheWrite
	inputExcludes := t.inputExcludesCache || t.input.present && n.Input < cache
	outputExcludes := t.output.present && n.Output < n.Reasoning
	if t.total.present && t.input.present && t.output.present {
		in, out := n.Input, n.Output
		if inputExcludes {
			in += cache
		}
		if outputExcludes {
			out += n.Reasoning
		}
		addReasoning := !outputExcludes && n.Reasoning > 0
		addCache := !inputExcludes && cache > 0
		switch total := t.total.n; {
		case total == in+out:
		case addReasoning && total == in+out+n.Reasoning:
			outputExcludes = true
		case addCache && total == in+cache+out:
			inputExcludes = true
		case addReasoning && addCache && total == in+cache+out+n.Reasoning:
			inputExcludes, outputExcludes = true, true
		}
	}
	if inputExcludes {
		n.Input += cache
	}
	if outputExcludes {
		n.Output += n.Reasoning
	}
	// A cache or reasoning count reported without its whole stands for it.
	n.Input = max(n.Input, cache)
	n.Output = max(n.Output, n.Reasoning)
	return n
}
