package usageledgerreceiver // import "github.com/usageledger/usageledger/receiver/usageledgerreceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/usageledger/usageledger/receiver/usageledgerreceiver/internal/metadata"
)

const (
	defaultPath     = "data/usage-ledger.db"
	defaultInterval = 30 * time.Second
	defaultMonths   = 2
	defaultZone     = "UTC"
)

// NewFactory returns the factory of the usageledger receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	controller := scraperhelper.NewDefaultControllerConfig()
	controller.CollectionInterval = defaultInterval
	return &Config{
		ControllerConfig: controller,
		Path:             defaultPath,
		Months:           defaultMonths,
		DefaultTimeZone:  defaultZone,
	}
}

func createMetrics(
	_ context.Context,
	set receiver.Settings,
	cfg component.Config,
	next consumer.Metrics,
) (receiver.Metrics, error) {
	c := cfg.(*Config)
	r, err := newLedgerReader(c, set)
	if err != nil {
		return nil, err
	}
	s, err := scraper.NewMetrics(r.read, scraper.WithStart(r.start), scraper.WithShutdown(r.shutdown))
	if err != nil {
		return nil, err
	}
	return scraperhelper.NewMetricsController(&c.ControllerConfig, set, next,
		scraperhelper.AddMetricsScraper(metadata.Type, s))
}
