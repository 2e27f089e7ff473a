package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	_ "embed"
	"sync"
)

// builtinPrices is the price table shipped with the product.
//
//go:embed prices.yaml
var builtinPrices []byte

// Builtin returns the price table shipped with the product, parsed once.
// An error means the shipped file is broken, which its tests rule out.
var Builtin = sync.OnceValues(func() (*Table, error) {
	return Load(builtinPrices)
})
