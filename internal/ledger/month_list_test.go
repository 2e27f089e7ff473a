package ledger

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidateMonths(t *testing.T) {
	assert.Empty(t, ValidateMonths("pinned_months", []string{"2026-12", "2027-01"}))
	errs := ValidateMonths("pinned_months", []string{"2026-12", "2026-13", "2026-12", "26-01"})
	assert.EqualError(t, errors.Join(errs...), `pinned_months[1]: "2026-13" is not a month; expecting YYYY-MM
pinned_months[2]: "2026-12" is listed already at pinned_months[0]; expecting each month once
pinned_months[3]: "26-01" is not a month; expecting YYYY-MM`)
}
