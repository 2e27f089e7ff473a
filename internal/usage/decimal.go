package usage // import "github.com/usageledger/usageledger/internal/usage"

import "errors"

// Errors of ScanDecimal, for callers to turn into messages of their own.
var (
	ErrDecimalSyntax    = errors.New("not a plain decimal number")
	ErrDecimalNoDigits  = errors.New("no digits")
	ErrDecimalTooLarge  = errors.New("whole part too large")
	ErrDecimalPrecision = errors.New("too many decimals")
)

// ScanDecimal reads text, a non-negative plain decimal number such as "3",
// "0.075" or ".5" (digits and at most one dot, no sign or exponent), without
// going through floating point. It returns the whole part and the fraction
// as an integer of exactly digits decimals: "0.075" with digits 6 is 0 and
// 75000. A whole part above maxWhole, or more than digits decimals, is an
// error rather than a rounding, so that amounts stay exact.
func ScanDecimal(text string, digits int, maxWhole uint64) (whole, frac uint64, err error) {
	fracDigits := 0
	seenDot, seenDigit := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9' && !seenDot:
			seenDigit = true
			whole = whole*10 + uint64(c-'0')
			if whole > maxWhole {
				return 0, 0, ErrDecimalTooLarge
			}
		case c >= '0' && c <= '9':
			seenDigit = true
			fracDigits++
			if fracDigits > digits {
				return 0, 0, ErrDecimalPrecision
			}
			frac = frac*10 + uint64(c-'0')
		default:
			return 0, 0, ErrDecimalSyntax
		}
	}
	if !seenDigit {
		return 0, 0, ErrDecimalNoDigits
	}
	for ; fracDigits < digits; fracDigits++ {
		frac *= 10
	}
	return whole, frac, nil
}
