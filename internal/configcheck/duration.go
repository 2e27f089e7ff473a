// Package configcheck holds the checks that the configurations of Usage
// Ledger's components share.
package configcheck // import "github.com/usageledger/usageledger/internal/configcheck"

import (
	"fmt"
	"time"
)

// MinDuration is the least positive duration any setting of the components
// takes. A smaller one is, in practice, a number written without its unit:
// the collector reads a bare 24 as 24 nanoseconds.
const MinDuration = time.Millisecond

// Duration returns an error naming key when d is positive and below
// MinDuration, with example as the form expected; nil otherwise. Zero and
// negative values are left to the setting's own checks.
func Duration(key string, d time.Duration, example string) error {
	if d <= 0 || d >= MinDuration {
		return nil
	}
	return fmt.Errorf("%s: %s is below a millisecond, a number without its unit (read as nanoseconds); "+
		"expecting a duration with its unit, such as %s", key, d, example)
}
