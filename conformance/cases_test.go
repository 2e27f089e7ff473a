package conformance

// counts are the ledger counters one call adds, in the product's
// normalized meaning: input includes cache reads and writes, output
// includes reasoning.
type counts struct {
	Requests     int64
	Blocked      int64
	RateLimited  int64
	Errors       int64
	Filtered     int64
	Unpriced     int64
	UsageMissing int64
	Input        int64
	Output       int64
	CacheRead    int64
	CacheWrite   int64
	Reasoning    int64
	CostPicoUSD  int64
}

// call is one client call a library's script makes, in order, and what the
// ledger must count for it.
type call struct {
	name  string // as run.js prints it
	fails bool   // the client gets an error back

	// connection and model are the labels the call is counted under; both
	// empty when the library sends no span for the call.
	connection string
	model      string
	want       counts
}

// library is one instrumentation library under test, run by
// `node run.js <name>` with the resource below.
type library struct {
	name    string
	service string // resource service.name
	tenant  string // resource tenant.id, the organization
	calls   []call
}

// What the stand-in provider returns, as the ledger must count it, for
// each thing a library may report. Costs are list prices in picodollars
// (1e-12 USD): gpt-4o-mini $0.15/M input, $0.075/M cache read, $0.60/M
// output; text-embedding-3-small $0.02/M; claude-sonnet-4-5 $3/M input,
// $0.30/M cache read, $3.75/M cache write, $15/M output.
var (
	// Chat completions: prompt 120 (of which cached 20), completion 30.
	// 100 × 150,000 + 20 × 75,000 + 30 × 600,000 = 34,500,000 ($0.0000345).
	chatWithCache = counts{Requests: 1, Input: 120, Output: 30, CacheRead: 20,
		CostPicoUSD: 34_500_000}
	// The cached 20 not on span: 120 × 150,000 + 30 × 600,000 = 36,000,000.
	chatNoCache = counts{Requests: 1, Input: 120, Output: 30, CostPicoUSD: 36_000_000}

	// Responses: input 200 (of which cached 50), output 40 (of which
	// reasoning 10). 150 × 150,000 + 50 × 75,000 + 40 × 600,000 =
	// 50,250,000 ($0.00005025).
	responsesFull = counts{Requests: 1, Input: 200, Output: 40, CacheRead: 50, Reasoning: 10,
		CostPicoUSD: 50_250_000}
	// Cached and reasoning not on span: 200 × 150,000 + 40 × 600,000 =
	// 54,000,000 ($0.000054).
	responsesNoDetails = counts{Requests: 1, Input: 200, Output: 40, CostPicoUSD: 54_000_000}

	// Embeddings: 16 × 20,000 = 320,000 ($0.00000032).
	embedding = counts{Requests: 1, Input: 16, CostPicoUSD: 320_000}

	// Anthropic messages: input 100 without cache, cache write 300, cache
	// read 400, output 25, so input 800. 100 × 3,000,000 + 400 × 300,000 +
	// 300 × 3,750,000 + 25 × 15,000,000 = 1,920,000,000 ($0.00192).
	messagesFull = counts{Requests: 1, Input: 800, Output: 25, CacheRead: 400, CacheWrite: 300,
		CostPicoUSD: 1_920_000_000}

	// A call whose span carries no token count: counted, usage missing,
	// and no cost can be known.
	usageNotOnSpan = counts{Requests: 1, UsageMissing: 1}

	rateLimited = counts{Requests: 1, RateLimited: 1}
	blocked     = counts{Requests: 1, Blocked: 1}

	// gpt-4o-mini-filter ran and answered with finish reason
	// content_filter: billed, so its tokens count, but the price table does
	// not know the name, so it is unpriced and costs nothing here.
	filteredWithCache = counts{Requests: 1, Filtered: 1, Unpriced: 1, Input: 120, Output: 30,
		CacheRead: 20}
	filteredNoCache = counts{Requests: 1, Filtered: 1, Unpriced: 1, Input: 120, Output: 30}

	// No span reached the collector: nothing can be counted.
	noSpan = counts{}
)

// libraries lists every library under test with the exact counters each
// of its calls must add. testdata/real-clients/README.md documents what
// each library puts on its spans.
var libraries = []library{
	{
		name: "otel-openai", service: "support-bot", tenant: "acme",
		calls: []call{
			{name: "chat gpt-4o-mini", connection: "support-bot/openai", model: "gpt-4o-mini",
				want: chatNoCache},
			{name: "chat streamed gpt-4o-mini", connection: "support-bot/openai", model: "gpt-4o-mini",
				want: chatNoCache},
			{name: "responses gpt-4o-mini", connection: "support-bot/openai", model: "gpt-4o-mini",
				want: responsesNoDetails},
			{name: "embeddings text-embedding-3-small", connection: "support-bot/openai",
				model: "text-embedding-3-small", want: embedding},
			{name: "chat gpt-4o-mini-ratelimit", fails: true, connection: "support-bot/openai",
				model: "gpt-4o-mini-ratelimit", want: rateLimited},
			{name: "chat gpt-4o-mini-blocked", fails: true, connection: "support-bot/openai",
				model: "gpt-4o-mini-blocked", want: blocked},
			{name: "chat gpt-4o-mini-filter", connection: "support-bot/openai",
				model: "gpt-4o-mini-filter", want: filteredNoCache},
		},
	},
	{
		name: "openllmetry-openai", service: "billing-agent", tenant: "initech",
		calls: []call{
			{name: "chat gpt-4o-mini", connection: "billing-agent/openai", model: "gpt-4o-mini",
				want: chatNoCache},
			{name: "chat streamed gpt-4o-mini", connection: "billing-agent/openai", model: "gpt-4o-mini",
				want: usageNotOnSpan},
			{name: "responses gpt-4o-mini", connection: "billing-agent/openai", model: "gpt-4o-mini",
				want: responsesNoDetails},
			{name: "embeddings text-embedding-3-small", want: noSpan},
			{name: "chat gpt-4o-mini-ratelimit", fails: true, want: noSpan},
			{name: "chat gpt-4o-mini-blocked", fails: true, want: noSpan},
			{name: "chat gpt-4o-mini-filter", connection: "billing-agent/openai",
				model: "gpt-4o-mini-filter", want: filteredNoCache},
		},
	},
	{
		name: "openllmetry-anthropic", service: "billing-agent", tenant: "initech",
		calls: []call{
			{name: "messages claude-sonnet-4-5", connection: "billing-agent/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "messages streamed claude-sonnet-4-5", connection: "billing-agent/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "messages claude-sonnet-4-5-ratelimit", fails: true,
				connection: "billing-agent/anthropic", model: "claude-sonnet-4-5-ratelimit",
				want: rateLimited},
			{name: "messages claude-sonnet-4-5-blocked", fails: true,
				connection: "billing-agent/anthropic", model: "claude-sonnet-4-5-blocked",
				want: blocked},
		},
	},
	{
		name: "openinference-openai", service: "research-agent", tenant: "umbrella",
		calls: []call{
			{name: "chat gpt-4o-mini", connection: "research-agent/openai", model: "gpt-4o-mini",
				want: chatWithCache},
			{name: "chat streamed gpt-4o-mini", connection: "research-agent/openai",
				model: "gpt-4o-mini", want: usageNotOnSpan},
			{name: "responses gpt-4o-mini", connection: "research-agent/openai", model: "gpt-4o-mini",
				want: responsesFull},
			{name: "embeddings text-embedding-3-small", connection: "research-agent/openai",
				model: "text-embedding-3-small", want: usageNotOnSpan},
			{name: "chat gpt-4o-mini-ratelimit", fails: true, want: noSpan},
			{name: "chat gpt-4o-mini-blocked", fails: true, want: noSpan},
			{name: "chat gpt-4o-mini-filter", connection: "research-agent/openai",
				model: "gpt-4o-mini-filter", want: filteredWithCache},
		},
	},
	{
		name: "openinference-anthropic", service: "research-agent", tenant: "umbrella",
		calls: []call{
			{name: "messages claude-sonnet-4-5", connection: "research-agent/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "messages streamed claude-sonnet-4-5", connection: "research-agent/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "messages claude-sonnet-4-5-ratelimit", fails: true,
				connection: "research-agent/anthropic", model: "claude-sonnet-4-5-ratelimit",
				want: rateLimited},
			{name: "messages claude-sonnet-4-5-blocked", fails: true,
				connection: "research-agent/anthropic", model: "claude-sonnet-4-5-blocked",
				want: blocked},
		},
	},
	{
		name: "vercel-ai", service: "docs-assistant", tenant: "globex",
		calls: []call{
			{name: "generateText responses gpt-4o-mini", connection: "docs-assistant/openai",
				model: "gpt-4o-mini", want: responsesNoDetails},
			{name: "generateText chat gpt-4o-mini", connection: "docs-assistant/openai",
				model: "gpt-4o-mini", want: chatNoCache},
			{name: "streamText chat gpt-4o-mini", connection: "docs-assistant/openai",
				model: "gpt-4o-mini", want: chatWithCache},
			{name: "generateText claude-sonnet-4-5", connection: "docs-assistant/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "streamText claude-sonnet-4-5", connection: "docs-assistant/anthropic",
				model: "claude-sonnet-4-5", want: messagesFull},
			{name: "embed text-embedding-3-small", connection: "docs-assistant/openai",
				model: "text-embedding-3-small", want: embedding},
			{name: "generateText chat gpt-4o-mini-ratelimit", fails: true,
				connection: "docs-assistant/openai", model: "gpt-4o-mini-ratelimit", want: rateLimited},
			{name: "generateText chat gpt-4o-mini-blocked", fails: true,
				connection: "docs-assistant/openai", model: "gpt-4o-mini-blocked", want: blocked},
			{name: "generateText chat gpt-4o-mini-filter", connection: "docs-assistant/openai",
				model: "gpt-4o-mini-filter", want: filteredNoCache},
		},
	},
}
