package usageledgerreceiver

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/usageledger/usageledger/internal/budget"
)

// TestReadmeExample loads the receiver's section of the README's example
// configuration, so the example keeps working as written.
func TestReadmeExample(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, found := strings.Cut(string(raw), "```yaml\n")
	require.True(t, found, "README has no yaml example")
	example, _, found := strings.Cut(rest, "```")
	require.True(t, found)

	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(example), &doc))
	sub, err := confmap.NewFromStringMap(doc).Sub("receivers::usageledger")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Equal(t, "data/usage-ledger.db", cfg.Path)
	require.Equal(t, []budget.Organization{{Org: "acme", MonthlyUSD: "500"}}, cfg.Budgets.Organizations)
}
