package workloads

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// A streaming operation's answer (Op.Messages, Op.FirstMessageLead) becomes
// its first-message latencies, from the intended start, and its message
// count; failures and operations that do not stream add neither. In
// simulated time the figures are exact: every get takes 20 ms and answers 3
// messages, the first 15 ms before its end.
func TestStreamingOperationsRecordTheirFirstMessage(t *testing.T) {
	clock := newSimClock(t)
	target := fakeTarget(t, func(ctx context.Context, op *Op) error {
		if !clock.sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
		if op.Kind != 0 {
			return nil // set: no stream
		}
		op.Messages, op.FirstMessageLead = 3, 15*time.Millisecond
		if op.Index%10 == 3 {
			return errors.New("aborted mid-stream")
		}
		return nil
	})
	spec := fakeSpec(target, 100, time.Second)
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.NoError(t, err)
	c := res.Components[0]
	get, set, all := c.Operation("get"), c.Operation("set"), c.Operation("all")
	require.NotZero(t, get.Count)
	require.NotZero(t, get.Errors, "some gets failed")
	assert.Equal(t, 3*get.Count, get.Messages, "three messages a successful get")
	require.NotNil(t, get.FirstMessageNS)
	first := decodeAll(t, get.FirstMessageHistogram)
	assert.Equal(t, get.Count, first.TotalCount(), "one first message a successful get")
	assert.InDelta(t, get.LatencyNS.Min-(15*time.Millisecond).Nanoseconds(), get.FirstMessageNS.Min, float64(get.LatencyNS.Min)/500,
		"the first message is 15 ms before the end, from the same intended start")
	assert.InDelta(t, get.LatencyNS.Max-(15*time.Millisecond).Nanoseconds(), get.FirstMessageNS.Max, float64(get.LatencyNS.Max)/500)

	assert.Zero(t, set.Messages)
	assert.Nil(t, set.FirstMessageNS, "set does not stream")
	assert.Empty(t, set.FirstMessageHistogram)

	assert.Equal(t, get.Messages, all.Messages)
	require.NotNil(t, all.FirstMessageNS)
	assert.Equal(t, *get.FirstMessageNS, *all.FirstMessageNS, "all's first messages are get's")

	// The file keeps them, and reads them back.
	data, err := res.Encode()
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	assert.Equal(t, get.FirstMessageNS, back.Components[0].Operation("get").FirstMessageNS)
	assert.Equal(t, get.Messages, back.Components[0].Operation("get").Messages)
}
