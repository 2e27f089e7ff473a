package budget // import "github.com/usageledger/usageledger/internal/budget"

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/usageledger/usageledger/internal/ledger"
	"github.com/usageledger/usageledger/internal/usage"
)

// fractionDigits is the most decimals a budget can have: the ledger counts
// in picodollars.
const fractionDigits = 12

// maxWholeUSD bounds the dollars of one monthly budget, far above any real
// budget, so that parsing stays within 64-bit arithmetic.
const maxWholeUSD = 1_000_000_000_000_000

// isDecimal reports whether text reads as a plain decimal number of
// dollars, however large or precise.
func isDecimal(text string) bool {
	_, _, err := usage.ScanDecimal(text, fractionDigits, maxWholeUSD)
	return err == nil || errors.Is(err, usage.ErrDecimalTooLarge) || errors.Is(err, usage.ErrDecimalPrecision)
}

// ParseUSD reads text, a positive plain decimal number of dollars such as
// "500" or "99.95", into an exact amount of picodollars without going
// through floating point.
func ParseUSD(text string) (ledger.Amount, error) {
	if text == "" {
		return ledger.Amount{}, fmt.Errorf("missing; expecting a positive number of dollars such as 500 or 99.95")
	}
	whole, frac, err := usage.ScanDecimal(text, fractionDigits, maxWholeUSD)
	switch {
	case errors.Is(err, usage.ErrDecimalTooLarge):
		return ledger.Amount{}, fmt.Errorf("%q is too large; expecting at most %d dollars",
			text, uint64(maxWholeUSD))
	case errors.Is(err, usage.ErrDecimalPrecision):
		return ledger.Amount{}, fmt.Errorf("%q has more than %d decimals; "+
			"expecting a whole number of picodollars", text, fractionDigits)
	case errors.Is(err, usage.ErrDecimalSyntax) && text[0] == '-' && isDecimal(text[1:]) &&
		strings.ContainsAny(text[1:], "123456789"):
		return ledger.Amount{}, fmt.Errorf("%q is negative; "+
			"expecting a positive number of dollars such as 500 or 99.95", text)
	case errors.Is(err, usage.ErrDecimalSyntax):
		return ledger.Amount{}, fmt.Errorf("%q is not a plain decimal number; "+
			"expecting a positive number of dollars such as 500 or 99.95", text)
	case errors.Is(err, usage.ErrDecimalNoDigits):
		return ledger.Amount{}, fmt.Errorf("%q has no digits; expecting a positive number of dollars "+
			"such as 500 or 99.95", text)
	}
	hi, lo := bits.Mul64(whole, 1_000_000_000_000)
	amount := ledger.Amount{Hi: hi, Lo: lo}.Add(ledger.PicoUSD(frac))
	if amount.IsZero() {
		return ledger.Amount{}, fmt.Errorf("%q is zero; expecting a positive number of dollars", text)
	}
	return amount, nil
}
