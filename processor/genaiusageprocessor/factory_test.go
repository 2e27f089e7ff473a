package genaiusageprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/usageledger/usageledger/internal/usage"
	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

func TestCreateDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())
}

func TestTracesPipeline(t *testing.T) {
	factory := NewFactory()
	sink := new(consumertest.TracesSink)
	p, err := factory.CreateTraces(context.Background(),
		processortest.NewNopSettings(metadata.Type), factory.CreateDefaultConfig(), sink)
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData)

	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	td, _ := newTraces(t, spanSpec{
		resource: map[string]any{"service.name": "support-bot", "tenant.id": "acme"},
		attrs:    chat(map[string]any{"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30}),
	})
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.NoError(t, p.Shutdown(context.Background()))

	require.Len(t, sink.AllTraces(), 1)
	got := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	conn, _ := got.Get(usage.AttrConnection)
	assert.Equal(t, "support-bot/openai", conn.Str())
	cost, _ := got.Get(usage.AttrCostPicoUSD)
	assert.Equal(t, int64(36_000_000), cost.Int()) // 120×150,000 + 30×600,000
}
