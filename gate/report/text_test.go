package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// The error line says how many of the unsent operations were tailgate's
// own falling behind: a reader of "unsent 18613" alone would put them all
// on the target.
func TestErrorsTextSaysWhichUnsentWereTailgates(t *testing.T) {
	for _, tt := range []struct {
		name string
		op   result.OperationResult
		want string
	}{
		{"kinds largest first", result.OperationResult{ErrorKinds: map[string]int64{"timeout": 3, "reset": 5}}, "reset 5, timeout 3"},
		{"unsent all the target's", result.OperationResult{ErrorKinds: map[string]int64{result.KindUnsent: 40, "timeout": 3}}, "unsent 40, timeout 3"},
		{"unsent partly tailgate's", result.OperationResult{ErrorKinds: map[string]int64{result.KindUnsent: 40, "timeout": 3}, ClientUnsent: 12},
			"unsent 40 (12 of them tailgate's own, left unsent by its falling behind), timeout 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ErrorsText(&tt.op))
		})
	}
	res := failResult(t, baselineResult(t))
	all := res.Components[0].Operation(slo.AllOperations)
	all.ErrorKinds = map[string]int64{result.KindUnsent: 9}
	all.ClientUnsent = 4
	var out bytes.Buffer
	require.NoError(t, Text(&out, res))
	assert.Contains(t, out.String(), "unsent 9 (4 of them tailgate's own, left unsent by its falling behind)")
}
