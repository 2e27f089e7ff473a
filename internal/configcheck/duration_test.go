package configcheck

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDuration(t *testing.T) {
	for _, d := range []time.Duration{24, 86_400, 999_999} {
		assert.EqualError(t, Duration("dedup::window", d, "24h"),
			"dedup::window: "+d.String()+" is below a millisecond, a number without its unit (read as nanoseconds); "+
				"expecting a duration with its unit, such as 24h")
	}
	for _, d := range []time.Duration{-time.Hour, -1, 0, time.Millisecond, 5 * time.Second} {
		assert.NoError(t, Duration("dedup::window", d, "24h"), "%s", d)
	}
}
