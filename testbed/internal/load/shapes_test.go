package load

import (
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/usageledger/usageledger/testbed/internal/price"
)

// After a request is refreshed for sending, every span as it will be sent
// holds the sequence number and the token counts that the expected totals
// record for it, under every name its dialect reports them.
func TestRefreshWritesWhatIsExpected(t *testing.T) {
	names := map[Shape][][]string{ // input, output, total
		ShapeCurrent:       {{"gen_ai.usage.input_tokens"}, {"gen_ai.usage.output_tokens"}, nil},
		ShapeStreamed:      {{"gen_ai.usage.input_tokens"}, {"gen_ai.usage.output_tokens"}, nil},
		ShapeDeprecated:    {{"gen_ai.usage.prompt_tokens"}, {"gen_ai.usage.completion_tokens"}, nil},
		ShapeOpenInference: {{"llm.token_count.prompt"}, {"llm.token_count.completion"}, {"llm.token_count.total"}},
		ShapeVercel: {
			{"ai.usage.promptTokens", "gen_ai.usage.input_tokens"},
			{"ai.usage.completionTokens", "gen_ai.usage.output_tokens"}, nil,
		},
	}
	g := &Generator{mix: Mix{Orgs: 2, Agents: 3, Models: price.Models, SpansPerRequest: 512,
		ResourcesPerRequest: 2, End: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}}
	r := rand.New(rand.NewPCG(1, 2))
	w := &worker{g: g, r: r}
	req := g.randomRequest(r)
	seen := map[Shape]int{}
	for round := range 2 {
		w.refresh(req)
		for i := range req.calls {
			c, want := &req.calls[i], req.delta[i]
			seen[c.shape]++
			attrs := c.span.Attributes()
			get := func(name string) int64 {
				v, ok := attrs.Get(name)
				if !ok || v.Type() != pcommon.ValueTypeInt {
					t.Fatalf("round %d, call %d (%s): no int under %s", round, i, c.shape, name)
				}
				return v.Int()
			}
			if got := get(SeqAttr); got != req.first+int64(i) {
				t.Errorf("round %d, call %d: sequence number %d, want %d", round, i, got, req.first+int64(i))
			}
			n, usage := names[c.shape]
			if !usage {
				if want.Input != 0 || want.Output != 0 {
					t.Errorf("call %d (%s) reports no usage but is expected with %+v", i, c.shape, want)
				}
				continue
			}
			for _, name := range n[0] {
				if got := get(name); got != want.Input {
					t.Errorf("round %d, call %d (%s): %s = %d, want %d", round, i, c.shape, name, got, want.Input)
				}
			}
			for _, name := range n[1] {
				if got := get(name); got != want.Output {
					t.Errorf("round %d, call %d (%s): %s = %d, want %d", round, i, c.shape, name, got, want.Output)
				}
			}
			for _, name := range n[2] {
				if got := get(name); got != want.Input+want.Output {
					t.Errorf("round %d, call %d (%s): %s = %d, want %d", round, i, c.shape, name, got,
						want.Input+want.Output)
				}
			}
		}
	}
	for s := range shapeCount {
		if seen[s] == 0 {
			t.Errorf("no call of shape %s in %d spans", s, len(req.calls))
		}
	}
}
