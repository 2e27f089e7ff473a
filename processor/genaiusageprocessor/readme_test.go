package genaiusageprocessor

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// TestReadmeExample checks that the configuration example in README.md loads
// as written and shows the defaults.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)

	const start = "```yaml\nprocessors:\n"
	i := strings.Index(string(readme), start)
	require.GreaterOrEqual(t, i, 0, "README.md has no processors example")
	block := string(readme[i+len("```yaml\n"):])
	block = block[:strings.Index(block, "```")]

	retrieved, err := confmap.NewRetrievedFromYAML([]byte(block))
	require.NoError(t, err)
	conf, err := retrieved.AsConf()
	require.NoError(t, err)
	sub, err := conf.Sub("processors::genaiusage")
	require.NoError(t, err)

	cfg := createDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, createDefaultConfig(), cfg)
}
