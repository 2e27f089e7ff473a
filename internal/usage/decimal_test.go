package usage

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScanDecimal(t *testing.T) {
	f := func(text string, digits int, maxWhole, wantWhole, wantFrac uint64, wantErr error) {
		t.Helper()
		whole, frac, err := ScanDecimal(text, digits, maxWhole)
		assert.ErrorIs(t, err, wantErr, "%q", text)
		if wantErr == nil {
			assert.NoError(t, err, "%q", text)
		}
		assert.Equal(t, [2]uint64{wantWhole, wantFrac}, [2]uint64{whole, frac}, "%q", text)
	}
	// $0.075 per million tokens, six decimals: 0 and 75,000 millionths.
	f("0.075", 6, 1000, 0, 75_000, nil)
	f("3", 6, 1000, 3, 0, nil)
	f(".5", 6, 1000, 0, 500_000, nil)
	f("12.", 6, 1000, 12, 0, nil)
	f("99.95", 12, 1000, 99, 950_000_000_000, nil)
	f("0.0000001", 6, 1000, 0, 0, ErrDecimalPrecision)
	f("1001", 6, 1000, 0, 0, ErrDecimalTooLarge)
	f("7.5e-2", 6, 1000, 0, 0, ErrDecimalSyntax)
	f("-1", 6, 1000, 0, 0, ErrDecimalSyntax)
	f("1.2.3", 6, 1000, 0, 0, ErrDecimalSyntax)
	f(".", 6, 1000, 0, 0, ErrDecimalNoDigits)
	f("", 6, 1000, 0, 0, ErrDecimalNoDigits)
}
