package genaiusageprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/usageledger/usageledger/internal/usage"
)

// TestSampledCalls counts a span that survived head sampling with its
// adjusted count.
func TestSampledCalls(t *testing.T) {
	for _, tt := range []struct {
		traceState string
		want       any
	}{
		{"ot=th:8", 2.0},                   // keeps 1 in 2
		{"ot=rv:abcdef01234567;th:c", 4.0}, // keeps 1 in 4
		{"vendor=x,ot=th:fc", 64.0},        // 2^56 / (2^56 − 0xfc·2^48) = 256/4
		{"ot=th:0", absent},                // keeps everything
		{"ot=th:zz", absent},               // unreadable
		{"", absent},
	} {
		t.Run(tt.traceState, func(t *testing.T) {
			s := root("chat", client, openAIChatAttrs(nil))
			s.traceState = tt.traceState
			got := processRequest(t, newTestProcessor(t, nil), nil, s)[0]
			if tt.want == absent {
				assert.NotContains(t, got, usage.AttrAdjustedCount)
				assert.NotContains(t, got, usage.AttrSampled)
				return
			}
			assert.Equal(t, tt.want, got[usage.AttrAdjustedCount])
			assert.Equal(t, true, got[usage.AttrSampled])
			// The span keeps the counts of its one call.
			assert.Equal(t, int64(120), got[usage.AttrInputTokens])
		})
	}
}

func TestAdjustedCount(t *testing.T) {
	f := func(ts string, want float64) {
		t.Helper()
		assert.Equal(t, want, adjustedCount(ts), ts)
	}
	f("ot=th:8", 2)
	f("ot=th:80000000000000", 2)
	f("ot=th:c", 4)
	f("ot=th:0", 1)
	f("ot=th:ffffffffffffff", float64(1<<56))
	f("ot=th:123456789abcdef", 1) // 15 digits
	f("ot=th:8G", 1)
	f("ot=rv:01;x:1", 1)
	f("other=th:8", 1)
	f(" a=b , ot=th:8", 2)
	assert.Zero(t, testing.AllocsPerRun(10, func() { adjustedCount("a=b,ot=rv:1;th:8") }))
}
