package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The file store keeps five buckets:
//
//	meta         "format" → big-endian uint32 format version (formatVersion)
//	rows         row key  → counters record
//	connections  connection key → connection record
//	seen_log     arrival (8 bytes) + sequence number (8 bytes) → dedup records
//	zones        month "YYYY-MM" + organization bytes → IANA zone name
//
// A row key is the 7-byte month "YYYY-MM" followed by the organization and
// the connection, each as a uvarint length and its bytes, and then the model
// bytes up to the end. Putting the fixed-length month first lets a reader
// fetch one month with a prefix scan. A connection key is the organization
// as a uvarint length and its bytes, followed by the connection bytes.
//
// A seen_log entry holds the dedup keys one commit recorded: its key is the
// commit's arrival (big-endian unix nanoseconds) and a big-endian sequence
// number, so that expiry reads the log from the start; its value is the
// records one after another, each a tag byte and a key. Tag 1 is a span key,
// the 16-byte trace id followed by the 8-byte span id; tag 2 a response key,
// the 16-byte trace id followed by the first 16 bytes of the SHA-256 of the
// response id. Expiry removes whole entries, or records from the front of the
// oldest one.
//
// A counters record (version 1) is the byte 1 followed by 16 big-endian
// uint64 fields, 129 bytes in all: requests, blocked, rate_limited, errors,
// filtered, input, output, cache_read, cache_write and reasoning tokens, cost
// high word, cost low word, unpriced, usage_missing, first_seen, last_seen
// (the last two are unix nanoseconds stored as the bits of an int64).
//
// A connection record (version 2) is the byte 2, last_seen, team_seen and
// cost_center_seen as 8 big-endian bytes each, the team as a uvarint length
// and its bytes, and the cost center bytes up to the end. Version 1, written
// by format 1 files, lacks the two label times; it reads with both set to
// last_seen for a non-empty label.
//
// File format history and upgrade path:
//
//	1  meta, rows, connections; connection records version 1.
//	2  adds dedup (bucket seen: span key → arrival, and seen_by_arrival:
//	   arrival + span key → empty; meta "seen_count"), zones, and
//	   connection records version 2.
//	3  adds response keys (32 bytes) to seen and seen_by_arrival.
//	4  replaces seen, seen_by_arrival and "seen_count" with seen_log.
//
// Opening a file of an earlier format upgrades it in place, in one
// transaction: missing buckets are created, the keys of seen_by_arrival are
// moved into seen_log (one entry per arrival, in arrival order), and the
// version is set; version 1 connection records are rewritten as version 2
// when their connection next gets a call. A build that reads an earlier
// format refuses a later one, so take a backup before upgrading. A reader
// rejects a version it does not know instead of guessing.
const (
	formatVersion     uint32 = 4
	countersVersion   byte   = 1
	connectionVersion byte   = 2
	countersFields           = 16
	countersSize             = 1 + countersFields*8
	spanKeySize              = 16 + 8
	responseKeySize          = 16 + 16
	tagSpanKey        byte   = 1
	tagResponseKey    byte   = 2
)

var errCorrupt = errors.New("corrupt ledger record")

func encodeRowKey(k Key) ([]byte, error) {
	if err := ValidateMonth(k.Month); err != nil {
		return nil, fmt.Errorf("row month: %w", err)
	}
	b := make([]byte, 0, len(k.Month)+len(k.Org)+len(k.Connection)+len(k.Model)+4)
	b = append(b, k.Month...)
	b = appendString(b, k.Org)
	b = appendString(b, k.Connection)
	return append(b, k.Model...), nil
}

func decodeRowKey(b []byte) (Key, error) {
	return decodeRowKeyIn(b, string(b))
}

// decodeRowKeyIn is decodeRowKey with the fields cut from s, which holds the
// bytes of b, instead of copied: a reader that copies many keys into one
// buffer pays one allocation for all of them.
func decodeRowKeyIn(b []byte, s string) (Key, error) {
	if len(b) < len(monthLayout) {
		return Key{}, fmt.Errorf("row key of %d bytes: %w", len(b), errCorrupt)
	}
	orgStart, orgEnd, ok := stringAt(b, len(monthLayout))
	if !ok {
		return Key{}, fmt.Errorf("row key organization: %w", errCorrupt)
	}
	connStart, connEnd, ok := stringAt(b, orgEnd)
	if !ok {
		return Key{}, fmt.Errorf("row key connection: %w", errCorrupt)
	}
	return Key{
		Month:      s[:len(monthLayout)],
		Org:        s[orgStart:orgEnd],
		Connection: s[connStart:connEnd],
		Model:      s[connEnd:],
	}, nil
}

func encodeConnectionKey(id ConnectionID) []byte {
	b := make([]byte, 0, len(id.Org)+len(id.Connection)+2)
	b = appendString(b, id.Org)
	return append(b, id.Connection...)
}

// decodeConnectionKeyIn decodes a connection key, with the names cut from
// s, which holds the bytes of b.
func decodeConnectionKeyIn(b []byte, s string) (ConnectionID, error) {
	start, end, ok := stringAt(b, 0)
	if !ok {
		return ConnectionID{}, fmt.Errorf("connection key organization: %w", errCorrupt)
	}
	return ConnectionID{Org: s[start:end], Connection: s[end:]}, nil
}

func encodeCounters(c Counters) []byte {
	b := make([]byte, 1, countersSize)
	b[0] = countersVersion
	for _, v := range [countersFields]uint64{
		c.Requests, c.Blocked, c.RateLimited, c.Errors, c.Filtered,
		c.InputTokens, c.OutputTokens, c.CacheReadTokens, c.CacheWriteTokens, c.ReasoningTokens,
		c.Cost.Hi, c.Cost.Lo, c.Unpriced, c.UsageMissing,
		uint64(c.FirstSeen), uint64(c.LastSeen),
	} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

func decodeCounters(b []byte) (Counters, error) {
	if len(b) == 0 || b[0] != countersVersion {
		return Counters{}, fmt.Errorf("counters record version %v, expecting %d: %w",
			firstByte(b), countersVersion, errCorrupt)
	}
	if len(b) != countersSize {
		return Counters{}, fmt.Errorf("counters record of %d bytes, expecting %d: %w",
			len(b), countersSize, errCorrupt)
	}
	var v [countersFields]uint64
	for i := range v {
		v[i] = binary.BigEndian.Uint64(b[1+8*i:])
	}
	return Counters{
		Requests: v[0], Blocked: v[1], RateLimited: v[2], Errors: v[3], Filtered: v[4],
		InputTokens: v[5], OutputTokens: v[6], CacheReadTokens: v[7],
		CacheWriteTokens: v[8], ReasoningTokens: v[9],
		Cost:     Amount{Hi: v[10], Lo: v[11]},
		Unpriced: v[12], UsageMissing: v[13],
		FirstSeen: int64(v[14]), LastSeen: int64(v[15]),
	}, nil
}

func encodeConnectionInfo(info ConnectionInfo) []byte {
	b := make([]byte, 1, 1+3*8+len(info.Team)+len(info.CostCenter)+2)
	b[0] = connectionVersion
	b = binary.BigEndian.AppendUint64(b, uint64(info.LastSeen))
	b = binary.BigEndian.AppendUint64(b, uint64(info.TeamSeen))
	b = binary.BigEndian.AppendUint64(b, uint64(info.CostCenterSeen))
	b = appendString(b, info.Team)
	return append(b, info.CostCenter...)
}

func decodeConnectionInfo(b []byte) (ConnectionInfo, error) {
	return decodeConnectionInfoIn(b, func(labels []byte) string { return string(labels) })
}

// decodeConnectionInfoIn is decodeConnectionInfo with the team and the cost
// center cut from the string that text returns for the record's labels: the
// team's length, the team and the cost center, the end of the record.
func decodeConnectionInfoIn(b []byte, text func(labels []byte) string) (ConnectionInfo, error) {
	var times int
	switch {
	case len(b) >= 1+8 && b[0] == 1:
		times = 1
	case len(b) >= 1+3*8 && b[0] == connectionVersion:
		times = 3
	default:
		return ConnectionInfo{}, fmt.Errorf("connection record version %v of %d bytes, expecting 1 or %d: %w",
			firstByte(b), len(b), connectionVersion, errCorrupt)
	}
	info := ConnectionInfo{LastSeen: int64(binary.BigEndian.Uint64(b[1:]))}
	if times == 3 {
		info.TeamSeen = int64(binary.BigEndian.Uint64(b[9:]))
		info.CostCenterSeen = int64(binary.BigEndian.Uint64(b[17:]))
	}
	labels := b[1+8*times:]
	start, end, ok := stringAt(labels, 0)
	if !ok {
		return ConnectionInfo{}, fmt.Errorf("connection record team: %w", errCorrupt)
	}
	s := text(labels)
	info.Team, info.CostCenter = s[start:end], s[end:]
	if times == 1 {
		// A version 1 record kept the labels of the latest call.
		info = CallInfo(info.Team, info.CostCenter, info.LastSeen)
	}
	return info, nil
}

// decodeArrivalKey returns the arrival and the span or response key of a
// key of seen_by_arrival, the dedup index of formats 2 and 3.
func decodeArrivalKey(b []byte) (int64, []byte, error) {
	if len(b) != 8+spanKeySize && len(b) != 8+responseKeySize {
		return 0, nil, fmt.Errorf("arrival key of %d bytes, expecting %d or %d: %w",
			len(b), 8+spanKeySize, 8+responseKeySize, errCorrupt)
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// stringAt reads the uvarint length at b[at:] and returns where the string
// that follows it starts and ends in b. A length in more bytes than it needs
// (0x80 0x00 for 0) is refused: the store never writes one, so it can only
// be damage.
func stringAt(b []byte, at int) (start, end int, ok bool) {
	n, size := binary.Uvarint(b[at:])
	if size <= 0 || n > uint64(len(b)-at-size) || size != uvarintLen(n) {
		return 0, 0, false
	}
	start = at + size
	return start, start + int(n), true
}

// uvarintLen is the number of bytes of n as a uvarint.
func uvarintLen(n uint64) int {
	return (bits.Len64(n|1) + 6) / 7
}

func firstByte(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}
