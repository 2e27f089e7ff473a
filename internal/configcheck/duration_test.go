package configcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/confmap"
)

func TestBareDurations(t *testing.T) {
	settings := []Duration{{"future_skew", "5m"}, {"dedup::window", "24h"}, {"timeout", "5s"}}
	check := func(raw map[string]any) error {
		return BareDurations(confmap.NewFromStringMap(raw), settings...)
	}

	// Any size: 86400000 is 24 h in milliseconds, and would be 86.4 ms.
	assert.EqualError(t, check(map[string]any{"dedup": map[string]any{"window": 86_400_000}}),
		"dedup::window: 86400000 has no unit, and the collector reads a bare number as nanoseconds; "+
			"expecting a duration with its unit, such as 24h")
	assert.EqualError(t, check(map[string]any{"future_skew": 300, "timeout": 1.5}),
		"future_skew: 300 has no unit, and the collector reads a bare number as nanoseconds; "+
			"expecting a duration with its unit, such as 5m\n"+
			"timeout: 1.5 has no unit, and the collector reads a bare number as nanoseconds; "+
			"expecting a duration with its unit, such as 5s")

	for _, raw := range []map[string]any{
		{},
		{"dedup": map[string]any{"window": 0}},
		{"dedup": map[string]any{"window": "24h"}, "future_skew": "500us", "timeout": "0s"},
		{"months": 3}, // not a duration
	} {
		assert.NoError(t, check(raw), "%v", raw)
	}
}
