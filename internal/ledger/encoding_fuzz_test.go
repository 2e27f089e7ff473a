package ledger

import (
	"bytes"
	"testing"
)

// FuzzRowKey checks that any row key with a valid month reads back as
// written, and that decoding arbitrary bytes fails cleanly or yields a key
// that encodes to the same bytes.
func FuzzRowKey(f *testing.F) {
	f.Add("acme", "support-bot/openai", "2026-11", "gpt-4o", []byte("2026-11\x04acme\x01cm"))
	f.Add("", "", "2000-01", "", []byte{})
	f.Add("a\x00b", "\xff\xfe", "2999-12", "m\x00", []byte("2026-11\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, org, conn, month, model string, raw []byte) {
		k := Key{Org: org, Connection: conn, Month: month, Model: model}
		b, err := encodeRowKey(k)
		if ValidateMonth(month) != nil {
			if err == nil {
				t.Fatalf("month %q encoded", month)
			}
		} else {
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeRowKey(b)
			if err != nil || got != k {
				t.Fatalf("row key %+v read back as %+v, %v", k, got, err)
			}
		}

		if got, err := decodeRowKey(raw); err == nil && ValidateMonth(got.Month) == nil {
			again, err := encodeRowKey(got)
			if err != nil || !bytes.Equal(again, raw) {
				t.Fatalf("bytes %q read as %+v, which encodes to %q", raw, got, again)
			}
		}
	})
}

// FuzzCounters checks the round trip of counters records and that no input
// makes the decoder panic.
func FuzzCounters(f *testing.F) {
	f.Add(uint64(10), uint64(1), uint64(36_000_000), uint64(1), int64(1_764_547_200_000_000_000), []byte{1, 2, 3})
	f.Add(^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), int64(-1), encodeCounters(Counters{Requests: 3}))
	f.Fuzz(func(t *testing.T, requests, tokens, costLo, costHi uint64, seen int64, raw []byte) {
		c := Counters{
			Requests: requests, Blocked: requests / 2, RateLimited: requests / 3, Errors: requests / 5,
			Filtered: requests / 7, InputTokens: tokens, OutputTokens: tokens / 2, CacheReadTokens: tokens / 3,
			CacheWriteTokens: tokens / 5, ReasoningTokens: tokens / 7, Cost: Amount{Hi: costHi, Lo: costLo},
			Unpriced: requests / 11, UsageMissing: requests / 13, FirstSeen: seen, LastSeen: seen + 1,
		}
		got, err := decodeCounters(encodeCounters(c))
		if err != nil || got != c {
			t.Fatalf("counters %+v read back as %+v, %v", c, got, err)
		}
		if got, err := decodeCounters(raw); err == nil && !bytes.Equal(encodeCounters(got), raw) {
			t.Fatalf("bytes %x read as %+v, which encodes differently", raw, got)
		}
	})
}

// FuzzConnectionInfo checks the round trip of connection records, and that
// arbitrary bytes, including version 1 records, decode without panicking.
func FuzzConnectionInfo(f *testing.F) {
	f.Add("support", "cc-42", int64(5), int64(4), int64(3), []byte{1, 0, 0, 0, 0, 0, 0, 0, 5, 3, 'o', 'p', 's'})
	f.Add("", "", int64(0), int64(0), int64(0), []byte{2})
	f.Add("\xff", "a\x00", int64(-1), int64(-2), int64(-3), []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, team, costCenter string, last, teamSeen, ccSeen int64, raw []byte) {
		info := ConnectionInfo{Team: team, CostCenter: costCenter, LastSeen: last, TeamSeen: teamSeen, CostCenterSeen: ccSeen}
		got, err := decodeConnectionInfo(encodeConnectionInfo(info))
		if err != nil || got != info {
			t.Fatalf("info %+v read back as %+v, %v", info, got, err)
		}
		if got, err := decodeConnectionInfo(raw); err == nil && len(raw) > 0 && raw[0] == connectionVersion &&
			!bytes.Equal(encodeConnectionInfo(got), raw) {
			t.Fatalf("bytes %x read as %+v, which encodes differently", raw, got)
		}
	})
}
