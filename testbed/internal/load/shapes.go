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
	return [...]string{"current", "deprecated", "streamed", "rate_limited", "blocked"}[s]
}

// shapeWeights is the share of each shape in the load, in percent.
var shapeWeights = [shapeCount]int{45, 20, 20, 8, 7}

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
	span   ptrace.Span
	seq    pcommon.Value
	input  pcommon.Value // zero Value when the shape carries no usage
	output pcommon.Value
	shape  Shape
	model  price.Model
	key    Key
}

// hasUsage reports whether the call's span carries token counts.
func (c *call) hasUsage() bool {
	return c.shape == ShapeCurrent || c.shape == ShapeDeprecated || c.shape == ShapeStreamed
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

	a := span.Attributes()
	a.EnsureCapacity(22)
	c.seq = a.PutEmpty(SeqAttr)
	c.seq.SetInt(0)
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
		return c
	case ShapeBlocked:
		a.PutStr("error.type", "BadRequestError")
		a.PutInt("http.response.status_code", 400)
		span.Status().SetCode(ptrace.StatusCodeError)
		span.Status().SetMessage(BlockedMessage)
		return c
	}

	a.PutStr("gen_ai.response.id", fmt.Sprintf("resp-%016x", r.Uint64()))
	a.PutStr("gen_ai.response.model", m.Name)
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	if shape == ShapeDeprecated {
		c.input = a.PutEmpty("gen_ai.usage.prompt_tokens")
		c.output = a.PutEmpty("gen_ai.usage.completion_tokens")
	} else {
		c.input = a.PutEmpty("gen_ai.usage.input_tokens")
		c.output = a.PutEmpty("gen_ai.usage.output_tokens")
	}
	c.input.SetInt(0)
	c.output.SetInt(0)
	if shape == ShapeStreamed {
		a.PutBool("llm.is_streaming", true)
		ev := span.Events().AppendEmpty()
		ev.SetName("gen_ai.first_chunk")
		ev.SetTimestamp(span.StartTimestamp() + pcommon.Timestamp(150*time.Millisecond))
	}
	return c
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
