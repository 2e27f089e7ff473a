package budget

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usageledger/usageledger/internal/ledger"
)

func TestParseUSD(t *testing.T) {
	ok := func(text string, want ledger.Amount) {
		t.Helper()
		got, err := ParseUSD(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	bad := func(text, wantErr string) {
		t.Helper()
		_, err := ParseUSD(text)
		require.Error(t, err, text)
		assert.Equal(t, wantErr, err.Error())
	}
	ok("500", ledger.PicoUSD(500_000_000_000_000))
	ok("99.95", ledger.PicoUSD(99_950_000_000_000))
	ok(".5", ledger.PicoUSD(500_000_000_000))
	ok("0.000000000001", ledger.PicoUSD(1))
	// 10^9 dollars are 10^21 picodollars, beyond 64 bits: 10^21 = 54 × 2^64
	// + 3875820019684212736.
	ok("1000000000", ledger.Amount{Hi: 54, Lo: 3875820019684212736})

	bad("", "missing; expecting a positive number of dollars such as 500 or 99.95")
	bad("0", `"0" is zero; expecting a positive number of dollars`)
	bad("0.000", `"0.000" is zero; expecting a positive number of dollars`)
	bad("-5", `"-5" is negative; expecting a positive number of dollars such as 500 or 99.95`)
	bad("-0.5", `"-0.5" is negative; expecting a positive number of dollars such as 500 or 99.95`)
	bad("-x", `"-x" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("-0", `"-0" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("1e3", `"1e3" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("1.2.3", `"1.2.3" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad("$5", `"$5" is not a plain decimal number; expecting a positive number of dollars such as 500 or 99.95`)
	bad(".", `"." has no digits; expecting a positive number of dollars such as 500 or 99.95`)
	bad("0.0000000000001", `"0.0000000000001" has more than 12 decimals; expecting a whole number of picodollars`)
	// At most 10^15 dollars, a quadrillion.
	// 10^15 dollars are 10^27 picodollars = 54210108 × 2^64 + 11515845246265065472
	// (python3: divmod(10**27, 2**64)).
	ok("1000000000000000", ledger.Amount{Hi: 54210108, Lo: 11515845246265065472})
	bad("1000000000000001", `"1000000000000001" is too large; expecting at most 1000000000000000 dollars`)
}
