package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"errors"
	"fmt"
	"math"

	"github.com/usageledger/usageledger/internal/usage"
)

// A price file quotes token prices in USD per million tokens and call prices
// in USD per thousand calls. One USD per million tokens is 1e12 / 1e6 =
// 1,000,000 picodollars per token; one USD per thousand calls is 1e12 / 1e3 =
// 1,000,000,000 picodollars per call.
const (
	perMillionTokens = 1_000_000
	perThousandCalls = 1_000_000_000
)

// unit says how a decimal price in a file turns into whole picodollars.
type unit struct {
	// scale is the number of picodollars in one unit of the file's amount.
	scale int64
	// digits is the most decimals an amount can have and still be a whole
	// number of picodollars: log10(scale).
	digits int
	// example is shown in errors, e.g. "USD per million tokens, e.g. 0.15".
	example string
}

var (
	tokenUnit = unit{scale: perMillionTokens, digits: 6, example: "USD per million tokens, e.g. 0.15"}
	callUnit  = unit{scale: perThousandCalls, digits: 9, example: "USD per thousand calls, e.g. 10"}
)

// parsePerMillion reads text, a non-negative decimal number of USD per
// million tokens such as "0.075" or "3", into picodollars per token without
// going through floating point. field names the price in errors.
func parsePerMillion(field, text string) (int64, error) {
	return tokenUnit.parse(field, text)
}

// parse reads text, a non-negative plain decimal number, into whole
// picodollars. A price with more decimals than the unit can hold is rejected
// rather than rounded: every sum of such prices must stay exact.
func (u unit) parse(field, text string) (int64, error) {
	if text == "" {
		return 0, fmt.Errorf("'%s' is missing; expecting %s", field, u.example)
	}
	maxWhole := (math.MaxInt64 - (u.scale - 1)) / u.scale
	whole, frac, err := usage.ScanDecimal(text, u.digits, uint64(maxWhole))
	switch {
	case errors.Is(err, usage.ErrDecimalTooLarge):
		return 0, fmt.Errorf("'%s' %q is too large; expecting at most %d", field, text, maxWhole)
	case errors.Is(err, usage.ErrDecimalPrecision):
		return 0, fmt.Errorf("'%s' %q has more than %d decimals; "+
			"a price must be a whole number of picodollars", field, text, u.digits)
	case errors.Is(err, usage.ErrDecimalSyntax):
		return 0, fmt.Errorf("'%s' %q is not a plain decimal number; expecting %s",
			field, text, u.example)
	case errors.Is(err, usage.ErrDecimalNoDigits):
		return 0, fmt.Errorf("'%s' %q has no digits; expecting %s", field, text, u.example)
	}
	return int64(whole)*u.scale + int64(frac), nil
}
