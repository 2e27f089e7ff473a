// Package usage holds the contract between the genaiusage processor and
// the usageledger exporter: the span attributes the processor writes for
// every counted call, and the outcome of a call.
//
// The processor's own facts live under the "usageledger." namespace. The
// normalized token counts are written under the current OpenTelemetry GenAI
// semantic-convention names, so that trace backends downstream read the
// same numbers the ledger counts; the attribute [AttrCounted] marks a span whose
// standard usage attributes already carry normalized values, so a second
// collector running the processor trusts them instead of normalizing again
// (unless its trust_counted_spans is false, for spans that come from clients).
package usage // import "github.com/usageledger/usageledger/internal/usage"

// Attributes written by the processor on every counted call.
const (
	// AttrCounted is true on a span that is one billable call and whose
	// usage attributes have been normalized. Spans without it are not
	// counted by the exporter.
	AttrCounted = "usageledger.counted"

	// AttrOrg is the organization the call is attributed to.
	AttrOrg = "usageledger.org"
	// AttrConnection is the link between one agent or application and one
	// resource, e.g. "support-bot/openai".
	AttrConnection = "usageledger.connection"
	// AttrTeam and AttrCostCenter are optional chargeback labels of the connection.
	AttrTeam       = "usageledger.team"
	AttrCostCenter = "usageledger.cost_center"

	// AttrOutcome is one of the [Outcome] values.
	AttrOutcome = "usageledger.outcome"
	// AttrFiltered is true when a content filter cut the answer. The model ran
	// and the call is billed; its outcome is ok.
	AttrFiltered = "usageledger.filtered"

	// AttrProvider is the normalized provider ("openai", "anthropic", ...).
	AttrProvider = "usageledger.provider"
	// AttrModel is the canonical model the price table matched, or the model
	// as reported when no price matched.
	AttrModel = "usageledger.model"
	// AttrCallKind says what was called: one of the [CallKind] values.
	AttrCallKind = "usageledger.call_kind"
	// AttrTarget is the resource end of the connection of a tool or MCP
	// call: "tool:<name>" for a tool, "mcp:<server>" for an MCP server. A
	// model call or remote agent has none: its target is [AttrProvider].
	AttrTarget = "usageledger.target"

	// AttrPricedAt is, on a call not priced at its span's end, the instant
	// it was priced at instead, in unix nanoseconds, as an int: the moment
	// the processor saw a span with no end time, one before 2000, or one
	// that ends more than [FutureSkew] later. The exporter books the call
	// at that instant, so that the price and the month are taken at the
	// same one. Absent on every other call.
	AttrPricedAt = "usageledger.priced_at"

	// AttrCostPicoUSD is the exact cost of the call in picodollars
	// (1e-12 USD), as an int. It is absent when the call is unpriced.
	AttrCostPicoUSD = "usageledger.cost_picousd"
	// AttrCostSource is [CostSourceReported] on a call charged at the cost
	// its span reported rather than the price table's; absent otherwise.
	AttrCostSource = "usageledger.cost_source"
	// AttrCostDiffPicoUSD is, on a call whose reported cost was compared
	// with the computed one, the reported cost minus the computed cost in
	// picodollars, as an int (negative when the span reported less).
	AttrCostDiffPicoUSD = "usageledger.cost_diff_picousd"
	// AttrUnpriced is true when no price matched the call's model.
	AttrUnpriced = "usageledger.unpriced"
	// AttrUsageMissing is true when the call reported no token usage at all.
	AttrUsageMissing = "usageledger.usage_missing"
	// AttrMalformed is true when a usage attribute had a value that could not
	// be read (wrong type, negative, absurdly large); it was ignored.
	AttrMalformed = "usageledger.malformed"
	// AttrUsageEstimated is true when the instrumentation says its token
	// counts are an estimate rather than the provider's own figures.
	AttrUsageEstimated = "usageledger.usage_estimated"

	// AttrAdjustedCount is present, as a double greater than 1, on a call
	// whose span survived head sampling upstream: it stands for that many
	// calls (the inverse of its sampling probability, from the W3C
	// tracestate "ot=th:" threshold). The counts written on the span are
	// those of the one call; the ledger multiplies requests, tokens and
	// cost by the adjusted count. AttrSampled is true on such a span.
	AttrAdjustedCount = "usageledger.adjusted_count"
	AttrSampled       = "usageledger.sampled"

	// AttrResponseID is the provider's id of the response the call received
	// (gen_ai.response.id, or ai.response.id of the Vercel AI SDK), as
	// reported. It is written only when the span carries one. The ledger
	// counts one call per trace and response id, so a second span of the
	// same call (a gateway's span and the client's, a wrapper exported in
	// another request than its child) does not count again.
	AttrResponseID = "usageledger.response_id"

	// AttrDuplicate is true on a span that records a call another span
	// already counts (a framework's wrapper around the provider SDK's span,
	// a gateway's span beside the client's). It is not counted, now or by a
	// collector further on.
	AttrDuplicate = "usageledger.duplicate"
)

// CostSourceReported is the [AttrCostSource] of a call charged at the
// cost its span reported.
const CostSourceReported = "reported"

// CallKind says what a counted call called.
type CallKind string

const (
	// CallModel is one model inference (chat, completion, content generation).
	CallModel CallKind = "model"
	// CallEmbedding is one embeddings request.
	CallEmbedding CallKind = "embedding"
	// CallAgent is one invocation of a remote agent (OpenAI Assistants,
	// Bedrock Agents).
	CallAgent CallKind = "agent"
	// CallTool is one execution of a tool.
	CallTool CallKind = "tool"
	// CallMCP is one MCP tools/call request from a client to a server.
	CallMCP CallKind = "mcp"
)

// Standard attributes the processor writes with normalized values: input
// tokens include cache reads and writes, output tokens include reasoning.
const (
	AttrInputTokens      = "gen_ai.usage.input_tokens"
	AttrOutputTokens     = "gen_ai.usage.output_tokens"
	AttrCacheReadTokens  = "gen_ai.usage.cache_read.input_tokens"
	AttrCacheWriteTokens = "gen_ai.usage.cache_creation.input_tokens"
	AttrReasoningTokens  = "gen_ai.usage.reasoning.output_tokens"

	// AttrRequestModel and AttrResponseModel are the model a call asked for
	// and the model that answered, as reported. The processor writes them
	// when the span names a model only in another dialect (OpenInference,
	// the Vercel AI SDK); the responding model is the one priced.
	AttrRequestModel  = "gen_ai.request.model"
	AttrResponseModel = "gen_ai.response.model"

	// AttrCostUSD is the call's cost in USD as a double, the name Langfuse and
	// OpenLIT read. It is a view of [AttrCostPicoUSD], which stays exact.
	AttrCostUSD = "gen_ai.usage.cost"
)

// OverflowName is the organization, connection and model name the
// usageledger exporter books calls past its limits to, so that every call
// is counted somewhere. The ledger holds it like any other name.
const OverflowName = "_overflow"
