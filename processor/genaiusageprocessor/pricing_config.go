package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"fmt"

	"github.com/usageledger/usageledger/internal/pricing"
)

// PricingConfig says which prices the processor charges calls at.
type PricingConfig struct {
	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the pricing settings.
func (cfg *PricingConfig) Validate() error {
	return nil
}

// load returns the price table calls are charged at.
func (cfg *PricingConfig) load() (*pricing.Table, error) {
	prices, err := pricing.Builtin()
	if err != nil {
		return nil, fmt.Errorf("cannot load the built-in price table: %w", err)
	}
	return prices, nil
}
