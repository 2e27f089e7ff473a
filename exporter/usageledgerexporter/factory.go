package usageledgerexporter // import "github.com/usageledger/usageledger/exporter/usageledgerexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/usageledger/usageledger/exporter/usageledgerexporter/internal/metadata"
	"github.com/usageledger/usageledger/internal/usage"
)

const (
	defaultPath       = "data/usage-ledger.db"
	defaultEndpoint   = "localhost:9464"
	defaultMonths     = 2
	defaultTimeZone   = "UTC"
	defaultFutureSkew = usage.FutureSkew

	// A day covers client and collector retries and a persistent queue
	// replayed after an outage of up to a day; see README "Guarantees" for
	// what it costs on disk.
	defaultDedupWindow     = 24 * time.Hour
	defaultDedupMaxEntries = 5_000_000

	defaultMaxOrganizations = 1000
	defaultMaxConnections   = 10_000
	// A connection links to one provider or server; providers list tens of
	// models, and dated versions fold into one canonical name, so a real
	// connection stays far below 100 over a year. A client that puts a
	// request id or a prompt into the model name reaches it within one
	// request and costs at most 100 rows per connection and month.
	defaultMaxModels = 100
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
		Path:            defaultPath,
		Metrics:         server,
		Months:          defaultMonths,
		DefaultTimeZone: defaultTimeZone,
		FutureSkew:      defaultFutureSkew,
		Dedup:           DedupConfig{Window: defaultDedupWindow, MaxEntries: defaultDedupMaxEntries},
		Limits: LimitsConfig{
			Organizations:              defaultMaxOrganizations,
			ConnectionsPerOrganization: defaultMaxConnections,
			ModelsPerConnection:        defaultMaxModels,
		},
		Backup:        false,
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
		QueueConfig:   configoptional.Default(exporterhelper.NewDefaultQueueConfig()),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newLedgerExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return newTraces(ctx, set, e)
}

// newTraces wraps e in the exporter helper with timeout, retry and the
// sending queue when configured, which Validate allows only persistent or
// waiting for the result.
func newTraces(ctx context.Context, set exporter.Settings, e *ledgerExporter) (exporter.Traces, error) {
	c := e.cfg
	return exporterhelper.NewTraces(ctx, set, c, e.consumeTraces,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
