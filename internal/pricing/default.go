package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	_ "embed"
	"sync"
)

// datasetPrices is generated from the public price dataset by
// tools/genai-prices ("make prices").
//
//go:embed prices.json
var datasetPrices []byte

// localPrices holds the entries the dataset lacks, kept by hand.
//
//go:embed prices_local.yaml
var localPrices []byte

// BuiltinSources returns the price files shipped with the product, in the
// order they are loaded: the dataset's, then the hand-kept ones.
func BuiltinSources() []Source {
	return []Source{
		{Name: "built-in prices.json", Data: datasetPrices},
		{Name: "built-in prices_local.yaml", Data: localPrices},
	}
}

// Builtin returns the price table shipped with the product, parsed once.
// An error means a shipped file is broken, which its tests rule out.
var Builtin = sync.OnceValues(func() (*Table, error) {
	return Compile(BuiltinSources(), Options{})
})
