package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import (
	"fmt"
	"math"
)

// picoUSDPerTokenPerUSDPerMillion converts a price in USD per million tokens
// to picodollars per token: 1e12 / 1e6.
const picoUSDPerTokenPerUSDPerMillion = 1_000_000

// maxFractionDigits is the most decimals a price in USD per million tokens can
// have and still be a whole number of picodollars per token.
const maxFractionDigits = 6

// maxWholeUSDPerMillion keeps a parsed price, fraction included, in an int64.
const maxWholeUSDPerMillion = (math.MaxInt64 - 999_999) / picoUSDPerTokenPerUSDPerMillion

// parsePerMillion reads text, a non-negative decimal number of USD per
// million tokens such as "0.075" or "3", into picodollars per token without
// going through floating point. field names the price in errors.
func parsePerMillion(field, text string) (int64, error) {
	if text == "" {
		return 0, fmt.Errorf("'%s' is missing; expecting USD per million tokens, e.g. 0.15", field)
	}
	var whole, frac int64
	fracDigits := 0
	seenDot, seenDigit := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9' && !seenDot:
			seenDigit = true
			whole = whole*10 + int64(c-'0')
			if whole > maxWholeUSDPerMillion {
				return 0, fmt.Errorf("'%s' %q is too large; expecting at most %d",
					field, text, maxWholeUSDPerMillion)
			}
		case c >= '0' && c <= '9':
			seenDigit = true
			fracDigits++
			if fracDigits > maxFractionDigits {
				return 0, fmt.Errorf("'%s' %q has more than %d decimals; "+
					"a price must be a whole number of picodollars per token",
					field, text, maxFractionDigits)
			}
			frac = frac*10 + int64(c-'0')
		default:
			return 0, fmt.Errorf("'%s' %q is not a plain decimal number; "+
				"expecting USD per million tokens, e.g. 0.15", field, text)
		}
	}
	if !seenDigit {
		return 0, fmt.Errorf("'%s' %q has no digits; expecting USD per million tokens, e.g. 0.15",
			field, text)
	}
	for ; fracDigits < maxFractionDigits; fracDigits++ {
		frac *= 10
	}
	return whole*picoUSDPerTokenPerUSDPerMillion + frac, nil
}
