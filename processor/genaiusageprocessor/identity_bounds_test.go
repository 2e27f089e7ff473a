package genaiusageprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/usageledger/usageledger/internal/usage"
)

// Identity values and model names are bounded by the rule the exporter
// applies too (usage.BoundedValue), after white space is trimmed and bytes
// that are not UTF-8 are replaced.
func TestIdentityValueIsBounded(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		assert.Equal(t, want, identityValue(in))
	}
	long := strings.Repeat("A", 33000)
	f(long, usage.BoundedValue(long))
	f("  "+long+"\n", usage.BoundedValue(long))
	f(strings.Repeat("a", 256), strings.Repeat("a", 256))
	// A run of bytes that are not UTF-8 becomes one U+FFFD; 150 runs in
	// 300 bytes make 600 bytes, then bounded.
	f(strings.Repeat("\xff", 300), "\uFFFD")
	f(strings.Repeat("a\xff", 150), usage.BoundedValue(strings.Repeat("a\uFFFD", 150)))
	f(" bad\xff ", "bad\uFFFD")
	assert.Len(t, identityValue(long), 255)
}

func TestShortValuesDoNotAllocate(t *testing.T) {
	s := strings.Repeat("support-bot", 10)
	allocs := testing.AllocsPerRun(100, func() { _ = identityValue(s) })
	assert.Zero(t, allocs)
}
