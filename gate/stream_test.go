package gate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// streamPlan parses a one-component gRPC plan of a streaming call, "watch",
// with the given slo block.
func streamPlan(t *testing.T, sloBlock string) *slo.Plan {
	t.Helper()
	p, err := slo.Parse([]byte(`version: 1
defaults: {duration: 15s, warmup: 0s}
components:
  - name: feed
    target: grpc://127.0.0.1:50051
    workload:
      rate: 1000
      requests:
        - {name: watch, method: grpc.testing.TestService/StreamingOutputCall}
    slo:
`+sloBlock), "plan.yaml")
	require.NoError(t, err)
	return p
}

// streamResult is the fixture's run as a streaming call's: every call's
// first message came at a fifth of its latency to the end, with three
// messages a call; withFirst false leaves the first messages out, as for a
// call that is not a stream.
func streamResult(f fixture, withFirst bool) *result.Result {
	r := f.result()
	c := &r.Components[0]
	c.Name, c.Protocol, c.Target = "feed", "grpc", "grpc://127.0.0.1:50051"
	c.Operations[0].Name = "watch"
	if !withFirst {
		return r
	}
	for i := range c.Operations {
		o := &c.Operations[i]
		whole, _ := o.WholeHistogram()
		first := result.NewHistogram()
		for _, b := range whole.Distribution() {
			if b.Count > 0 {
				first.RecordValues((b.From+b.To)/2/5, b.Count)
			}
		}
		o.Messages = 3 * o.Count
		o.SetFirstMessage(first)
	}
	return r
}

func TestStreamingCallsAreJudgedOnEitherLatency(t *testing.T) {
	// base's p99 is about 6.4 ms to the end, so about 1.3 ms to the first
	// message.
	tests := []struct {
		name      string
		slo       string
		withFirst bool
		status    status.Status
		measured  string // a substring of the measured value
	}{
		{"a first message under its bar passes", "      minimum: {watch: {first_message.p99: 2ms}}\n", true, status.Pass, "ms"},
		{"a first message over its bar fails", "      minimum: {watch: {first_message.p99: 1ms}}\n", true, status.Fail, "ms"},
		{"the end of the stream judges the same bar otherwise", "      minimum: {watch: {p99: 2ms}}\n", true, status.Fail, "ms"},
		{"complete is the end of the stream", "      minimum: {watch: {complete.p99: 2ms}}\n", true, status.Fail, "ms"},
		{"complete passes where the end does", "      minimum: {watch: {complete.p99: 20ms}}\n", true, status.Pass, "ms"},
		{"all holds the first messages too", "      minimum: {all: {first_message.max: 1s}}\n", true, status.Pass, "ms"},
		{"no first messages is never a pass", "      minimum: {watch: {first_message.p99: 1s}}\n", false, status.Insufficient, "no first messages"},
		{"no first messages misses a milestone", "      aspirational: {watch: {first_message.p99: 1s}}\n", false, status.Missed, "no first messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(streamPlan(t, tt.slo), streamResult(base, tt.withFirst), nil)
			require.NoError(t, err)
			require.Len(t, v.Objectives["feed"], 1)
			o := v.Objectives["feed"][0]
			assert.Equal(t, tt.status, o.Status, "%s: %s", o.Measured, o.Detail)
			assert.Contains(t, o.Measured, tt.measured)
		})
	}

	t.Run("the first message's bar reads the first messages", func(t *testing.T) {
		r := streamResult(base, true)
		v, err := gate.Judge(streamPlan(t, "      minimum: {watch: {first_message.p99: 1s, p99: 1s}}\n"), r, nil)
		require.NoError(t, err)
		require.Len(t, v.Objectives["feed"], 2)
		first, end := v.Objectives["feed"][0], v.Objectives["feed"][1]
		op := r.Components[0].Operation("watch")
		assert.Equal(t, float64(op.FirstMessageNS.P99), first.MeasuredValue)
		assert.Equal(t, float64(op.LatencyNS.P99), end.MeasuredValue)
		assert.Less(t, first.MeasuredValue, end.MeasuredValue)
		assert.Greater(t, first.IntervalHigh, first.IntervalLow, "the interval comes from the first-message histogram")
		assert.Less(t, first.IntervalHigh, end.IntervalLow)
	})

	t.Run("a regression on complete compares the end of the stream", func(t *testing.T) {
		slower := fixture{seed: 3, medianNS: 2.6e6, sigma: 0.5, intervals: 15, perSecond: 1000}
		v, err := gate.Judge(streamPlan(t, "      regression: {watch: {complete.p99: +10%}}\n"), streamResult(slower, true), streamResult(base, true))
		require.NoError(t, err)
		require.Len(t, v.Objectives["feed"], 1)
		assert.Equal(t, status.Fail, v.Objectives["feed"][0].Status)
	})
}
