package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/internal/pricing"
)

// maxTokenCount is the largest token count read from a span. Larger values
// are not plausible for one call and are treated as malformed.
const maxTokenCount = 1_000_000_000

// tokenCount is one token quantity as a span reported it.
type tokenCount struct {
	n       int64
	present bool
}

// reportedTokens are the token counts a span reported, before normalization.
type reportedTokens struct {
	input      tokenCount
	output     tokenCount
	cacheRead  tokenCount
	cacheWrite tokenCount
	reasoning  tokenCount
}

// usageReader reads the token counts one instrumentation dialect writes. It
// reports malformed when a usage attribute held a value it had to ignore.
type usageReader interface {
	readUsage(attrs pcommon.Map) (tokens reportedTokens, malformed bool)
}

// attributeUsage is a dialect that writes each quantity as one attribute.
// Each quantity lists its names in order of precedence; the first one present
// with a readable value is used and the others are ignored, so a quantity
// reported under two names is never added up.
type attributeUsage struct {
	input      []string
	output     []string
	cacheRead  []string
	cacheWrite []string
	reasoning  []string
}

// semconvUsage reads the OpenTelemetry GenAI semantic conventions, current
// names before deprecated ones. Cache counts are part of input and reasoning
// is part of output, as the conventions require.
var semconvUsage = attributeUsage{
	input:      []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"},
	output:     []string{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"},
	cacheRead:  []string{"gen_ai.usage.cache_read.input_tokens"},
	cacheWrite: []string{"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens"},
	reasoning:  []string{"gen_ai.usage.reasoning.output_tokens"},
}

// usageReaders are the dialects the processor reads, in order; the first
// that finds any token count on a span provides all of them.
var usageReaders = []usageReader{semconvUsage}

func (a attributeUsage) readUsage(attrs pcommon.Map) (reportedTokens, bool) {
	var t reportedTokens
	var bad [5]bool
	t.input, bad[0] = readCount(attrs, a.input)
	t.output, bad[1] = readCount(attrs, a.output)
	t.cacheRead, bad[2] = readCount(attrs, a.cacheRead)
	t.cacheWrite, bad[3] = readCount(attrs, a.cacheWrite)
	t.reasoning, bad[4] = readCount(attrs, a.reasoning)
	return t, bad[0] || bad[1] || bad[2] || bad[3] || bad[4]
}

// readUsage returns the token counts of the first dialect that reports any,
// and whether some usage attribute was malformed.
func readUsage(attrs pcommon.Map) (reportedTokens, bool) {
	malformed := false
	for _, r := range usageReaders {
		t, bad := r.readUsage(attrs)
		malformed = malformed || bad
		if t.any() {
			return t, malformed
		}
	}
	return reportedTokens{}, malformed
}

// readCount returns the first readable count among names, and whether a name
// was present with a value that could not be read.
func readCount(attrs pcommon.Map, names []string) (tokenCount, bool) {
	malformed := false
	for _, name := range names {
		v, ok := attrs.Get(name)
		if !ok {
			continue
		}
		n, ok := parseCount(v)
		if !ok {
			malformed = true
			continue
		}
		return tokenCount{n: n, present: true}, malformed
	}
	return tokenCount{}, malformed
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
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		return n, err == nil && n >= 0 && n <= maxTokenCount
	default:
		return 0, false
	}
}

func (t reportedTokens) any() bool {
	return t.input.present || t.output.present || t.cacheRead.present ||
		t.cacheWrite.present || t.reasoning.present
}

// normalized returns the counts with the meaning the ledger uses: input
// includes cache reads and writes, output includes reasoning. A subset is
// never added to its total again; a total smaller than its subsets is
// inconsistent and is raised to their sum.
func (t reportedTokens) normalized() pricing.Tokens {
	n := pricing.Tokens{
		Input:      t.input.n,
		Output:     t.output.n,
		CacheRead:  t.cacheRead.n,
		CacheWrite: t.cacheWrite.n,
		Reasoning:  t.reasoning.n,
	}
	// Each count is at most 1e9, so these sums cannot overflow.
	n.Input = max(n.Input, n.CacheRead+n.CacheWrite)
	n.Output = max(n.Output, n.Reasoning)
	return n
}
