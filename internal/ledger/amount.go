package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"math"
	"math/bits"
	"strconv"
)

// Amount is an exact sum of money in picodollars (1e-12 USD), held as an
// unsigned 128-bit integer: Hi is the high word and Lo the low word. 2^128
// picodollars is about 3.4e26 USD, so no organization's sum can overflow it;
// should it ever, [Amount.Add] stops at the largest value instead of wrapping.
type Amount struct {
	Hi, Lo uint64
}

// PicoUSD returns the amount of n picodollars.
func PicoUSD(n uint64) Amount {
	return Amount{Lo: n}
}

// IsZero reports whether a is zero.
func (a Amount) IsZero() bool {
	return a.Hi == 0 && a.Lo == 0
}

// Add returns a + b, saturating at the largest amount.
func (a Amount) Add(b Amount) Amount {
	lo, carry := bits.Add64(a.Lo, b.Lo, 0)
	hi, overflow := bits.Add64(a.Hi, b.Hi, carry)
	if overflow != 0 {
		return Amount{Hi: math.MaxUint64, Lo: math.MaxUint64}
	}
	return Amount{Hi: hi, Lo: lo}
}

// Mul returns a × n, saturating at the largest amount.
func (a Amount) Mul(n uint64) Amount {
	hiOfLo, lo := bits.Mul64(a.Lo, n)
	carry, hi := bits.Mul64(a.Hi, n)
	hi, overflow := bits.Add64(hi, hiOfLo, 0)
	if carry != 0 || overflow != 0 {
		return Amount{Hi: math.MaxUint64, Lo: math.MaxUint64}
	}
	return Amount{Hi: hi, Lo: lo}
}

// picoPerUSD is the number of picodollars in one dollar.
const picoPerUSD = 1_000_000_000_000

// USD returns a in dollars as a float64. Whole dollars and the remaining
// picodollars are converted separately, so amounts below 2^53 dollars are off
// by at most one rounding of each part; small amounts such as 36,000,000
// picodollars come out as the nearest float64 to 3.6e-05.
func (a Amount) USD() float64 {
	qHi, r := a.Hi/picoPerUSD, a.Hi%picoPerUSD
	qLo, rem := bits.Div64(r, a.Lo, picoPerUSD)
	dollars := float64(qHi)*0x1p64 + float64(qLo)
	return dollars + float64(rem)/picoPerUSD
}

// String returns a as a decimal number of picodollars.
func (a Amount) String() string {
	if a.Hi == 0 {
		return strconv.FormatUint(a.Lo, 10)
	}
	// Peel off 19 decimal digits at a time: 10^19 is the largest power of ten
	// below 2^64.
	const chunk = 10_000_000_000_000_000_000
	var parts []uint64
	hi, lo := a.Hi, a.Lo
	for hi != 0 {
		qHi, r := hi/chunk, hi%chunk
		qLo, rem := bits.Div64(r, lo, chunk)
		parts = append(parts, rem)
		hi, lo = qHi, qLo
	}
	s := strconv.FormatUint(lo, 10)
	for i := len(parts) - 1; i >= 0; i-- {
		d := strconv.FormatUint(parts[i], 10)
		s += "0000000000000000000"[len(d):] + d
	}
	return s
}
