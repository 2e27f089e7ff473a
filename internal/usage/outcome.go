package usage // import "github.com/usageledger/usageledger/internal/usage"

// Outcome says how a call ended. Blocked and rate-limited calls never
// reached the model and cost nothing.
type Outcome string

const (
	// OutcomeOK is a call the model answered, including one whose answer a
	// content filter cut.
	OutcomeOK Outcome = "ok"
	// OutcomeBlocked is a call a guardrail or content policy refused before
	// the model ran.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeRateLimited is a call a rate limit or quota throttled.
	OutcomeRateLimited Outcome = "rate_limited"
	// OutcomeError is a call that failed for any other reason.
	OutcomeError Outcome = "error"
)

// PicoUSDPerUSD is the number of cost units in one US dollar.
const PicoUSDPerUSD = 1_000_000_000_000

// ParseOutcome returns the outcome named s and whether s names one.
func ParseOutcome(s string) (Outcome, bool) {
	switch o := Outcome(s); o {
	case OutcomeOK, OutcomeBlocked, OutcomeRateLimited, OutcomeError:
		return o, true
	}
	return "", false
}
