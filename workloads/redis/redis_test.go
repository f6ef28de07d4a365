package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

func spec(target string, rate float64, duration, timeout time.Duration) *workloads.Spec {
	return &workloads.Spec{
		Component: slo.Component{Name: "cache", Target: target, Workload: slo.Workload{
			Rate: rate, Arrival: slo.ArrivalUniform, Connections: 4, Timeout: timeout, ValueSize: 32, MaxErrorRate: 0.5,
			Keys: slo.Keys{Count: 500, Distribution: slo.DistributionUniform, Prefix: "tailgate:t:"},
			Mix:  []slo.MixEntry{{Operation: "get", Weight: 50}, {Operation: "set", Weight: 50}},
		}},
		Duration: duration, Seed: 1,
	}
}

func TestRunAgainstRealRedisKeepsToThePrefix(t *testing.T) {
	srv := testserver.Redis(t)
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer client.Close()
	require.NoError(t, client.Set(context.Background(), "someone-elses-key", "v", 0).Err())

	res, err := workloads.Run(context.Background(), []*workloads.Spec{spec("redis://"+srv.Addr, 500, time.Second, time.Second)}, workloads.Options{})
	require.NoError(t, err)
	c := res.Components[0]
	for _, name := range []string{"get", "set", "all"} {
		op := c.Operation(name)
		require.NotNil(t, op, name)
		assert.Positive(t, op.Count, name)
		assert.Zero(t, op.Errors, name)
		assert.Positive(t, op.LatencyNS.P99, name)
	}
	assert.EqualValues(t, 500, c.Operation("all").Count)

	keys, err := client.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		if k != "someone-elses-key" {
			assert.True(t, strings.HasPrefix(k, "tailgate:t:"), "key %q outside the prefix", k)
		}
	}
	assert.Equal(t, "v", client.Get(context.Background(), "someone-elses-key").Val(), "a key outside the prefix was touched")
}

// A server that stalls must land in the tail: operations due during the
// stall are measured from their intended start, not from when the client
// got round to sending them.
func TestAFrozenServerLandsInTheTail(t *testing.T) {
	srv := testserver.Redis(t)
	s := spec("redis://"+srv.Addr, 1000, 4*time.Second, 5*time.Second)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		srv.Freeze()
		time.Sleep(500 * time.Millisecond)
		srv.Thaw()
	}()
	res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	require.NotNil(t, all)
	assert.Zero(t, all.Errors)
	t.Logf("corrected p50 %v p99 %v max %v; service p99 %v; late %d of %d",
		time.Duration(all.LatencyNS.P50), time.Duration(all.LatencyNS.P99), time.Duration(all.LatencyNS.Max),
		time.Duration(all.ServiceNS.P99), all.Late, all.Count)
	assert.GreaterOrEqual(t, all.LatencyNS.P99, (300 * time.Millisecond).Nanoseconds(), "the freeze must show in p99")
	assert.GreaterOrEqual(t, all.LatencyNS.Max, (450 * time.Millisecond).Nanoseconds())
	assert.Less(t, all.LatencyNS.P50, (20 * time.Millisecond).Nanoseconds(), "the median must not move")
	assert.Less(t, all.ServiceNS.P99, all.LatencyNS.P99/4, "service time alone hides the stall")
	assert.GreaterOrEqual(t, all.Late, int64(400), "operations due during the freeze are late")
}

func TestUnreachableRedisFailsBeforeLoad(t *testing.T) {
	port := testserver.FreePort(t)
	start := time.Now()
	_, err := workloads.Run(context.Background(), []*workloads.Spec{spec("redis://:pw-secret@127.0.0.1:"+itoa(port), 100, time.Second, time.Second)}, workloads.Options{})
	require.ErrorIs(t, err, workloads.ErrUnreachable)
	assert.Less(t, time.Since(start), 6*time.Second)
	assert.NotContains(t, err.Error(), "pw-secret")
}

func itoa(i int) string { return strconv.Itoa(i) }
