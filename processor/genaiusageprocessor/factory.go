package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/usageledger/usageledger/processor/genaiusageprocessor/internal/metadata"
)

const defaultOrg = "default"

// The processor writes attributes onto the spans it counts.
var processorCapabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns a factory for the genaiusage processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		OrgKeys:           []string{"tenant.id", "org.id"},
		DefaultOrg:        defaultOrg,
		ConnectionKeys:    []string{"usageledger.connection"},
		AgentKeys:         []string{"gen_ai.agent.name", "gen_ai.agent.id", "service.name"},
		TeamKeys:          []string{"usageledger.team", "team"},
		CostCenterKeys:    []string{"usageledger.cost_center", "cost_center"},
		CountToolCalls:    true,
		TrustCountedSpans: true,
	}
}

func createTraces(
	ctx context.Context,
	set processor.Settings,
	cfg component.Config,
	nextConsumer consumer.Traces,
) (processor.Traces, error) {
	pcfg := cfg.(*Config)
	prices, err := pcfg.Pricing.load()
	if err != nil {
		return nil, fmt.Errorf("genaiusage: %w", err)
	}
	p, err := newUsageProcessor(set, pcfg, prices)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, nextConsumer,
		p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown))
}
