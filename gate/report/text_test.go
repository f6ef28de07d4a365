package report

import (
	"bytes"
	"io"
	"regexp"
	"strings"
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

// TestAnOperationWithoutSamplesShowsNoLatency: an operation that only
// failed, as every operation of a run that reached no server does, has no
// latency to show; its percentiles print "-" in every table, never "0s",
// which would read as replies that took no time.
func TestAnOperationWithoutSamplesShowsNoLatency(t *testing.T) {
	res := errorResult(t)
	for i := range res.Components[0].Operations {
		op := &res.Components[0].Operations[i]
		op.Errors += op.Count
		op.Count, op.AchievedRate, op.LatencyNS, op.ServiceNS = 0, 0, result.Percentiles{}, result.Percentiles{}
	}
	name := res.Components[0].Name
	for _, tt := range []struct {
		format string
		render func(io.Writer, *result.Result) error
		row    *regexp.Regexp
	}{
		{"text", Text, regexp.MustCompile(`(?m)^` + name + `\s+get\s+0\s+\d+\s+0/s\s+-\s+-\s+-\s+-$`)},
		{"markdown", Markdown, regexp.MustCompile(`(?m)^\| ` + name + ` \| get \| 0 \| \d+ \| 0/s \| - \| - \| - \| - \|$`)},
		{"html", HTML, regexp.MustCompile(`<tr><td>get</td><td class="num">0</td>(<td class="num">[^<]*</td>){4}(<td class="num">-</td>){8}</tr>`)},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, tt.render(&b, res))
			assert.Regexp(t, tt.row, b.String())
		})
	}
}
