package ledger

import (
	"math"
	"testing"
)

func TestAmount(t *testing.T) {
	f := func(a, b Amount, wantSum Amount, wantString string, wantUSD float64) {
		t.Helper()
		sum := a.Add(b)
		if sum != wantSum {
			t.Fatalf("unexpected sum of %+v and %+v; got %+v; want %+v", a, b, sum, wantSum)
		}
		if s := sum.String(); s != wantString {
			t.Fatalf("unexpected string of %+v; got %s; want %s", sum, s, wantString)
		}
		if usd := sum.USD(); usd != wantUSD {
			t.Fatalf("unexpected USD of %+v; got %v; want %v", sum, usd, wantUSD)
		}
	}

	f(Amount{}, Amount{}, Amount{}, "0", 0)
	// 36,000,000 pUSD is 3.6e-05 USD.
	f(PicoUSD(36_000_000), Amount{}, PicoUSD(36_000_000), "36000000", 3.6e-05)
	// 1.5 USD plus 2.25 USD.
	f(PicoUSD(1_500_000_000_000), PicoUSD(2_250_000_000_000), PicoUSD(3_750_000_000_000), "3750000000000", 3.75)
	// 2^64-1 + 1 carries into the high word: 2^64 pUSD = 18,446,744.073709551616 USD.
	f(PicoUSD(math.MaxUint64), PicoUSD(1), Amount{Hi: 1}, "18446744073709551616", 18_446_744.073709551616)
	// 2^64 + 2^64 = 2^65 = 36,893,488,147,419,103,232.
	f(Amount{Hi: 1}, Amount{Hi: 1}, Amount{Hi: 2}, "36893488147419103232", 36_893_488.147419103232)
	// 10^19 × 10^19 does not fit; 10^38 - 1 does: Hi:Lo of 99,999,999,999,999,999,999,999,999,999,999,999,999.
	f(Amount{Hi: 0x4b3b4ca85a86c47a, Lo: 0x098a223fffffffff}, Amount{},
		Amount{Hi: 0x4b3b4ca85a86c47a, Lo: 0x098a223fffffffff},
		"99999999999999999999999999999999999999", 1e26)
	// The largest amount stays the largest instead of wrapping to zero.
	maxAmount := Amount{Hi: math.MaxUint64, Lo: math.MaxUint64}
	f(maxAmount, PicoUSD(1), maxAmount, "340282366920938463463374607431768211455", 3.4028236692093846e+26)
}

func TestCountersEncoding(t *testing.T) {
	c := Counters{
		Requests: 1, Blocked: 2, RateLimited: 3, Errors: 4, Filtered: 5,
		InputTokens: 6, OutputTokens: 7, CacheReadTokens: 8, CacheWriteTokens: 9, ReasoningTokens: 10,
		Cost: Amount{Hi: 11, Lo: 12}, Unpriced: 13, UsageMissing: 14, FirstSeen: 15, LastSeen: -16,
	}
	b := encodeCounters(c)
	if len(b) != 129 || b[0] != 1 {
		t.Fatalf("unexpected record; got %d bytes starting %d; want 129 bytes starting 1", len(b), b[0])
	}
	// Field 3 (rate_limited) sits at bytes 1+2×8 .. 1+3×8.
	if b[1+2*8+7] != 3 {
		t.Fatalf("unexpected rate_limited byte; got %d; want 3", b[1+2*8+7])
	}
	got, err := decodeCounters(b)
	if err != nil || got != c {
		t.Fatalf("unexpected decode; got %+v, %v; want %+v", got, err, c)
	}
	b[0] = 2
	if _, err := decodeCounters(b); err == nil {
		t.Fatalf("expecting an error for record version 2")
	}
	if _, err := decodeCounters(b[:100]); err == nil {
		t.Fatalf("expecting an error for a short record")
	}
}

func TestRowKeyEncoding(t *testing.T) {
	f := func(k Key) {
		t.Helper()
		b, err := encodeRowKey(k)
		if err != nil {
			t.Fatalf("cannot encode %+v: %s", k, err)
		}
		got, err := decodeRowKey(b)
		if err != nil || got != k {
			t.Fatalf("unexpected decode; got %+v, %v; want %+v", got, err, k)
		}
	}
	f(Key{Month: "2026-11"})
	f(Key{Org: "acme", Connection: "bot/openai", Month: "2026-11", Model: "gpt-4o"})
	// Separators and bytes of any kind inside the names stay apart.
	f(Key{Org: "a\x00b", Connection: "\xff\x01", Month: "2026-01", Model: "m\x00"})

	if _, err := encodeRowKey(Key{Month: "2026-13"}); err == nil {
		t.Fatalf("expecting an error for month 2026-13")
	}
}
