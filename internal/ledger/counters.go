package ledger // import "github.com/usageledger/usageledger/internal/ledger"

import (
	"fmt"
	"math/bits"
	"time"
)

// Key names one row of the ledger.
type Key struct {
	Org        string
	Connection string
	// Month is the calendar month of the calls, "YYYY-MM".
	Month string
	// Model is the canonical model the price table matched, or the model as
	// reported when none matched.
	Model string
}

// Counters are the monthly totals of one row. Every field only grows.
type Counters struct {
	// Requests counts every attempt, whatever its outcome.
	Requests uint64
	// Blocked, RateLimited and Errors count the attempts that ended so.
	Blocked     uint64
	RateLimited uint64
	Errors      uint64
	// Filtered counts answered calls whose answer a content filter cut.
	Filtered uint64

	// Token counts: input includes cache reads and writes, output includes
	// reasoning.
	InputTokens      uint64
	OutputTokens     uint64
	CacheReadTokens  uint64
	CacheWriteTokens uint64
	ReasoningTokens  uint64

	// Cost is the exact sum of the calls' prices.
	Cost Amount
	// Unpriced counts calls no price matched; UsageMissing counts calls that
	// reported no usage.
	Unpriced     uint64
	UsageMissing uint64

	// FirstSeen and LastSeen are the earliest and latest call times in unix
	// nanoseconds; zero means no call.
	FirstSeen int64
	LastSeen  int64
}

// Add adds d to c. Counts saturate at the largest uint64 instead of wrapping.
func (c *Counters) Add(d Counters) {
	c.Requests = addCount(c.Requests, d.Requests)
	c.Blocked = addCount(c.Blocked, d.Blocked)
	c.RateLimited = addCount(c.RateLimited, d.RateLimited)
	c.Errors = addCount(c.Errors, d.Errors)
	c.Filtered = addCount(c.Filtered, d.Filtered)
	c.InputTokens = addCount(c.InputTokens, d.InputTokens)
	c.OutputTokens = addCount(c.OutputTokens, d.OutputTokens)
	c.CacheReadTokens = addCount(c.CacheReadTokens, d.CacheReadTokens)
	c.CacheWriteTokens = addCount(c.CacheWriteTokens, d.CacheWriteTokens)
	c.ReasoningTokens = addCount(c.ReasoningTokens, d.ReasoningTokens)
	c.Cost = c.Cost.Add(d.Cost)
	c.Unpriced = addCount(c.Unpriced, d.Unpriced)
	c.UsageMissing = addCount(c.UsageMissing, d.UsageMissing)
	if d.FirstSeen != 0 && (c.FirstSeen == 0 || d.FirstSeen < c.FirstSeen) {
		c.FirstSeen = d.FirstSeen
	}
	c.LastSeen = max(c.LastSeen, d.LastSeen)
}

// Scale returns c with every count and the cost multiplied by n, as for a
// sampled call that stands for n calls; the times stay. Counts saturate.
func (c Counters) Scale(n uint64) Counters {
	if n == 1 {
		return c
	}
	for _, f := range []*uint64{
		&c.Requests, &c.Blocked, &c.RateLimited, &c.Errors, &c.Filtered,
		&c.InputTokens, &c.OutputTokens, &c.CacheReadTokens, &c.CacheWriteTokens, &c.ReasoningTokens,
		&c.Unpriced, &c.UsageMissing,
	} {
		hi, lo := bits.Mul64(*f, n)
		if hi != 0 {
			lo = ^uint64(0)
		}
		*f = lo
	}
	c.Cost = c.Cost.Mul(n)
	return c
}

func addCount(a, b uint64) uint64 {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return ^uint64(0)
	}
	return sum
}

// Row is one key of the ledger with its counters.
type Row struct {
	Key
	Counters
}

// ConnectionID names a connection of an organization.
type ConnectionID struct {
	Org        string
	Connection string
}

// ConnectionInfo is what the ledger keeps about a connection across months:
// its chargeback labels and when its latest call was.
//
// Each label is the latest non-empty value seen: a call that carries no team
// leaves the team of earlier calls in place rather than clearing it.
// TeamSeen and CostCenterSeen are the times of the calls the labels came
// from, so that a late call cannot bring back an older label.
type ConnectionInfo struct {
	Team       string
	CostCenter string
	// LastSeen is the time of the latest call in unix nanoseconds.
	LastSeen int64
	// TeamSeen and CostCenterSeen are the times, in unix nanoseconds, of the
	// calls Team and CostCenter came from; zero when the label is empty.
	TeamSeen       int64
	CostCenterSeen int64
}

// CallInfo returns the info of one call at unix nanoseconds seen with the
// given labels; an empty label has no time.
func CallInfo(team, costCenter string, seen int64) ConnectionInfo {
	info := ConnectionInfo{Team: team, CostCenter: costCenter, LastSeen: seen}
	if team != "" {
		info.TeamSeen = seen
	}
	if costCenter != "" {
		info.CostCenterSeen = seen
	}
	return info
}

// Merge returns the info of i and next together: the latest call time, and
// for each label the latest non-empty value; on equal times next wins. Every
// store applies this rule, so the outcome does not depend on the order in
// which writers commit.
func (i ConnectionInfo) Merge(next ConnectionInfo) ConnectionInfo {
	out := i
	out.LastSeen = max(i.LastSeen, next.LastSeen)
	if next.Team != "" && next.TeamSeen >= i.TeamSeen || i.Team == "" {
		out.Team, out.TeamSeen = next.Team, next.TeamSeen
	}
	if next.CostCenter != "" && next.CostCenterSeen >= i.CostCenterSeen || i.CostCenter == "" {
		out.CostCenter, out.CostCenterSeen = next.CostCenter, next.CostCenterSeen
	}
	return out
}

// Connection is a connection with its info.
type Connection struct {
	ConnectionID
	ConnectionInfo
}

// monthLayout is the time layout of [Key.Month].
const monthLayout = "2006-01"

// ValidateMonth returns an error unless s is a calendar month "YYYY-MM".
func ValidateMonth(s string) error {
	if len(s) != len(monthLayout) {
		return fmt.Errorf("%q is not a month; expecting YYYY-MM", s)
	}
	if _, err := time.Parse(monthLayout, s); err != nil {
		return fmt.Errorf("%q is not a month; expecting YYYY-MM", s)
	}
	return nil
}

// ValidateMonths returns an error for each entry of the list named key that
// is not a month "YYYY-MM" or repeats an earlier one, naming its index.
func ValidateMonths(key string, months []string) []error {
	var errs []error
	seen := make(map[string]int, len(months))
	for i, m := range months {
		if err := ValidateMonth(m); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", key, i, err))
			continue
		}
		if j, dup := seen[m]; dup {
			errs = append(errs, fmt.Errorf(
				"%s[%d]: %q is listed already at %s[%d]; expecting each month once", key, i, m, key, j))
			continue
		}
		seen[m] = i
	}
	return errs
}

// TokenType is one bucket of a row's tokens, under the name the "type"
// label and attribute give it wherever the ledger is shown.
type TokenType struct {
	Name  string
	Value func(c *Counters) uint64
}

// TokenTypes are the token buckets in the order they are shown: input
// includes cache reads and writes, output includes reasoning.
var TokenTypes = []TokenType{
	{"input", func(c *Counters) uint64 { return c.InputTokens }},
	{"output", func(c *Counters) uint64 { return c.OutputTokens }},
	{"cache_read", func(c *Counters) uint64 { return c.CacheReadTokens }},
	{"cache_write", func(c *Counters) uint64 { return c.CacheWriteTokens }},
	{"reasoning", func(c *Counters) uint64 { return c.ReasoningTokens }},
}
