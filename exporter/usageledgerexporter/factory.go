package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadata"
)

const (
	defaultPath     = "data/usage-ledger.db"
	defaultEndpoint = "localhost:9464"
	defaultMonths   = 2
)

// NewFactory returns the factory of the usageledger exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	return &Config{
		Path:          defaultPath,
		Metrics:       server,
		Months:        defaultMonths,
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newLedgerExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return newTraces(ctx, set, e)
}

// newTraces wraps e in the exporter helper with timeout and retry and
// without a sending queue.
func newTraces(ctx context.Context, set exporter.Settings, e *ledgerExporter) (exporter.Traces, error) {
	c := e.cfg
	return exporterhelper.NewTraces(ctx, set, c, e.consumeTraces,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithRetry(c.RetryConfig),
		// A successful return means the counts are on disk, so no queue may
		// answer first.
		exporterhelper.WithQueue(configoptional.None[exporterhelper.QueueBatchConfig]()),
	)
}
