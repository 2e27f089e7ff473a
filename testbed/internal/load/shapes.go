package load

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/usageledger/usageledger/testbed/internal/price"
)

// SeqAttr is the span attribute holding the span's sequence number, unique
// across one test run, so loss and duplication are measurable downstream.
const SeqAttr = "testbed.seq"

// BlockedMessage is the status message of a call a guardrail refused.
const BlockedMessage = "Request blocked by guardrail policy"

// Shape is one way an instrumentation reports a model call.
type Shape int

const (
	// ShapeCurrent uses the current GenAI semantic-convention names.
	ShapeCurrent Shape = iota
	// ShapeDeprecated uses gen_ai.system and the prompt/completion token names
	// older instrumentations still send.
	ShapeDeprecated
	// ShapeOpenInference is a model call as OpenInference instrumentations
	// report it: llm.* names, the span kind in openinference.span.kind.
	ShapeOpenInference
	// ShapeVercel is the provider call of the Vercel AI SDK
	// (ai.generateText.doGenerate), with its ai.* names and the gen_ai.*
	// names it writes beside them, the same counts under both.
	ShapeVercel
	// ShapeStreamed is a streamed chat call whose usage arrived with the last
	// chunk.
	ShapeStreamed
	// ShapeRateLimited is a call the provider throttled: no usage, cost 0.
	ShapeRateLimited
	// ShapeBlocked is a call a guardrail refused before the model ran.
	ShapeBlocked
	shapeCount
)

func (s Shape) String() string {
	return [...]string{"current", "deprecated", "openinference", "vercel", "streamed", "rate_limited",
		"blocked"}[s]
}

// shapeWeights is the share of each shape in the load, in percent.
var shapeWeights = [shapeCount]int{35, 15, 10, 10, 15, 8, 7}

// scope returns the instrumentation scope that reports calls of shape s.
func (s Shape) scope() (name, version string) {
	switch s {
	case ShapeOpenInference:
		return "openinference.instrumentation.openai", "0.1.30"
	case ShapeVercel:
		return "ai", "5.0.0"
	default:
		return "opentelemetry.instrumentation.openai_v2", "2.1b0"
	}
}

func pickShape(r *rand.Rand) Shape {
	n := r.IntN(100)
	for s, w := range shapeWeights {
		if n < w {
			return Shape(s)
		}
		n -= w
	}
	return ShapeCurrent
}

// call is one span of a request together with the handles the generator
// rewrites each time the request is sent again.
type call struct {
	span ptrace.Span
	seq  pcommon.Value
	// input and output hold the span's token counts, under every name its
	// shape writes them; none when the shape carries no usage.
	input  []pcommon.Value
	output []pcommon.Value
	// total holds the sum of the two, where the shape reports one.
	total []pcommon.Value
	shape Shape
	model price.Model
	key   Key
}

// takeHandles takes the call's rewritable values, its sequence number and
// its token counts under the names given, once every attribute of its span
// is written: a value taken before a later attribute grew the span's
// attribute list would be left behind in the old one.
func (c *call) takeHandles(a pcommon.Map, input, output, total []string) {
	c.seq, _ = a.Get(SeqAttr)
	get := func(names []string) []pcommon.Value {
		var values []pcommon.Value
		for _, name := range names {
			v, _ := a.Get(name)
			values = append(values, v)
		}
		return values
	}
	c.input, c.output, c.total = get(input), get(output), get(total)
}

// setTokens writes the call's token counts under each of their names.
func (c *call) setTokens(input, output int64) {
	for _, v := range c.input {
		v.SetInt(input)
	}
	for _, v := range c.output {
		v.SetInt(output)
	}
	for _, v := range c.total {
		v.SetInt(input + output)
	}
}

// hasUsage reports whether the call's span carries token counts.
func (c *call) hasUsage() bool {
	return len(c.input) > 0
}

// counters returns what the ledger must add for this call with the given
// token counts.
func (c *call) counters(input, output int64) Counters {
	out := Counters{Requests: 1}
	switch c.shape {
	case ShapeRateLimited:
		out.RateLimited = 1
	case ShapeBlocked:
		out.Blocked = 1
	default:
		out.Input = input
		out.Output = output
		out.CostPicoUSD = c.model.Cost(input, output)
	}
	return out
}

// fillResource writes the resource attributes of one agent process of one
// organization.
func fillResource(res pcommon.Resource, org, agent string) {
	a := res.Attributes()
	a.EnsureCapacity(8)
	a.PutStr("service.name", agent)
	a.PutStr("tenant.id", org)
	a.PutStr("service.version", "1.4.2")
	a.PutStr("service.instance.id", agent+"-0")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	a.PutStr("telemetry.sdk.language", "python")
	a.PutStr("telemetry.sdk.version", "1.39.0")
}

// fillSpan writes one model call of the given shape into span and returns
// its rewritable handles. end is the call's end time.
func fillSpan(span ptrace.Span, r *rand.Rand, shape Shape, m price.Model, end time.Time) call {
	c := call{span: span, shape: shape, model: m}
	span.SetName("chat " + m.Name)
	span.SetKind(ptrace.SpanKindClient)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-time.Duration(200+r.IntN(4000)) * time.Millisecond)))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	switch shape {
	case ShapeOpenInference:
		fillOpenInference(&c, r)
		return c
	case ShapeVercel:
		fillVercel(&c, r)
		return c
	}

	a := span.Attributes()
	a.EnsureCapacity(22)
	a.PutInt(SeqAttr, 0)
	a.PutStr("gen_ai.operation.name", "chat")
	if shape == ShapeDeprecated {
		a.PutStr("gen_ai.system", m.FormerProvider)
	} else {
		a.PutStr("gen_ai.provider.name", m.Provider)
	}
	a.PutStr("gen_ai.request.model", m.Name)
	a.PutStr("server.address", serverAddress(m.Provider))
	a.PutInt("server.port", 443)
	a.PutInt("gen_ai.request.max_tokens", 1024)
	a.PutDouble("gen_ai.request.temperature", 0.2)
	a.PutDouble("gen_ai.request.top_p", 0.95)
	a.PutDouble("gen_ai.request.frequency_penalty", 0)
	a.PutDouble("gen_ai.request.presence_penalty", 0)
	a.PutStr("gen_ai.conversation.id", fmt.Sprintf("conv-%08x", r.Uint32()))
	a.PutStr("gen_ai.output.type", "text")
	a.PutStr("code.function.name", "answer_ticket")
	a.PutStr("thread.name", "worker-3")

	switch shape {
	case ShapeRateLimited:
		a.PutStr("error.type", "RateLimitError")
		a.PutInt("http.response.status_code", 429)
		span.Status().SetCode(ptrace.StatusCodeError)
		span.Status().SetMessage("Rate limit reached for requests per minute. Please try again in 20s.")
		c.takeHandles(a, nil, nil, nil)
		return c
	case ShapeBlocked:
		a.PutStr("error.type", "BadRequestError")
		a.PutInt("http.response.status_code", 400)
		span.Status().SetCode(ptrace.StatusCodeError)
		span.Status().SetMessage(BlockedMessage)
		c.takeHandles(a, nil, nil, nil)
		return c
	}

	a.PutStr("gen_ai.response.id", fmt.Sprintf("resp-%016x", r.Uint64()))
	a.PutStr("gen_ai.response.model", m.Name)
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	input, output := "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"
	if shape == ShapeDeprecated {
		input, output = "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"
	}
	a.PutInt(input, 0)
	a.PutInt(output, 0)
	if shape == ShapeStreamed {
		a.PutBool("llm.is_streaming", true)
		ev := span.Events().AppendEmpty()
		ev.SetName("gen_ai.first_chunk")
		ev.SetTimestamp(span.StartTimestamp() + pcommon.Timestamp(150*time.Millisecond))
	}
	c.takeHandles(a, []string{input}, []string{output}, nil)
	return c
}

// fillOpenInference writes an LLM span as the OpenInference
// instrumentations of the OpenAI, Anthropic and Gemini clients write it.
func fillOpenInference(c *call, r *rand.Rand) {
	m := c.model
	c.span.SetName("ChatCompletion")
	c.span.SetKind(ptrace.SpanKindInternal)
	a := c.span.Attributes()
	a.EnsureCapacity(20)
	a.PutInt(SeqAttr, 0)
	a.PutStr("openinference.span.kind", "LLM")
	a.PutStr("llm.system", m.OpenInferenceProvider)
	a.PutStr("llm.provider", m.OpenInferenceProvider)
	a.PutStr("llm.model_name", m.Name)
	a.PutStr("llm.invocation_parameters", `{"model": "`+m.Name+`", "temperature": 0.2, "max_tokens": 1024}`)
	a.PutStr("input.mime_type", "application/json")
	a.PutStr("input.value", `{"messages": [{"role": "user", "content": "Where is my order?"}]}`)
	a.PutStr("output.mime_type", "application/json")
	a.PutStr("output.value", fmt.Sprintf(`{"id": "resp-%016x", "choices": [{"finish_reason": "stop"}]}`, r.Uint64()))
	a.PutStr("llm.input_messages.0.message.role", "system")
	a.PutStr("llm.input_messages.0.message.content", "You answer support tickets.")
	a.PutStr("llm.input_messages.1.message.role", "user")
	a.PutStr("llm.input_messages.1.message.content", "Where is my order?")
	a.PutStr("llm.output_messages.0.message.role", "assistant")
	a.PutStr("llm.output_messages.0.message.content", "It ships tomorrow.")
	a.PutStr("session.id", fmt.Sprintf("conv-%08x", r.Uint32()))
	a.PutInt("llm.token_count.prompt", 0)
	a.PutInt("llm.token_count.completion", 0)
	a.PutInt("llm.token_count.total", 0)
	c.takeHandles(a, []string{"llm.token_count.prompt"}, []string{"llm.token_count.completion"},
		[]string{"llm.token_count.total"})
}

// fillVercel writes the provider call span of the Vercel AI SDK's
// generateText, with the gen_ai.* names the SDK writes beside its own.
func fillVercel(c *call, r *rand.Rand) {
	m := c.model
	c.span.SetName("ai.generateText.doGenerate")
	a := c.span.Attributes()
	a.EnsureCapacity(24)
	a.PutInt(SeqAttr, 0)
	respID := fmt.Sprintf("resp_%016x", r.Uint64())
	a.PutStr("operation.name", "ai.generateText.doGenerate answer-ticket")
	a.PutStr("resource.name", "answer-ticket")
	a.PutStr("ai.operationId", "ai.generateText.doGenerate")
	a.PutStr("ai.telemetry.functionId", "answer-ticket")
	a.PutStr("ai.model.provider", m.VercelProvider)
	a.PutStr("ai.model.id", m.Name)
	a.PutInt("ai.settings.maxRetries", 2)
	a.PutStr("ai.request.headers.user-agent", "ai/5.0.0")
	a.PutStr("ai.prompt.messages", `[{"role":"user","content":[{"type":"text","text":"Where is my order?"}]}]`)
	a.PutStr("gen_ai.system", m.VercelProvider)
	a.PutStr("gen_ai.request.model", m.Name)
	a.PutStr("ai.response.finishReason", "stop")
	a.PutStr("ai.response.text", "It ships tomorrow.")
	a.PutStr("ai.response.id", respID)
	a.PutStr("ai.response.model", m.Name)
	a.PutStr("ai.response.timestamp", c.span.EndTimestamp().AsTime().UTC().Format(time.RFC3339))
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	a.PutStr("gen_ai.response.id", respID)
	a.PutStr("gen_ai.response.model", m.Name)
	input := []string{"ai.usage.promptTokens", "gen_ai.usage.input_tokens"}
	output := []string{"ai.usage.completionTokens", "gen_ai.usage.output_tokens"}
	for _, name := range append(input, output...) {
		a.PutInt(name, 0)
	}
	c.takeHandles(a, input, output, nil)
}

func serverAddress(provider string) string {
	switch provider {
	case "openai":
		return "api.openai.com"
	case "anthropic":
		return "api.anthropic.com"
	default:
		return "generativelanguage.googleapis.com"
	}
}

// tokens draws the usage of one call: prompts of 50 to 4,049 tokens and
// answers of 10 to 1,209, well below every long-context price tier.
func tokens(r *rand.Rand) (input, output int64) {
	return int64(50 + r.IntN(4000)), int64(10 + r.IntN(1200))
}
