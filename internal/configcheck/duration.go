// Package configcheck holds the checks that the configurations of Usage
// Ledger's components share.
package configcheck // import "github.com/usageledger/usageledger/internal/configcheck"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
)

// Duration is a duration setting: its key, and a value with its unit to
// suggest.
type Duration struct {
	Key, Example string
}

// BareDurations returns an error for each duration setting in conf that is
// written as a number without a unit: the collector would take 24 as 24
// nanoseconds, which for a dedup window quietly turns dedup off. A bare 0
// is left alone; it is zero in any unit. conf is the configuration as
// written, before it is decoded.
func BareDurations(conf *confmap.Conf, settings ...Duration) error {
	var errs []error
	for _, s := range settings {
		if v := conf.Get(s.Key); isNumber(v) && fmt.Sprint(v) != "0" {
			errs = append(errs, fmt.Errorf("%s: %v has no unit, and the collector reads a bare number as nanoseconds; "+
				"expecting a duration with its unit, such as %s", s.Key, v, s.Example))
		}
	}
	return errors.Join(errs...)
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}
