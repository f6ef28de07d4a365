package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
)

// shardedPlan is examples/sharded/plan.yaml scaled down for a loopback test
// under the race detector on a busy machine: 600 ops/s shared by three
// shards.
const shardedPlan = `version: 1
defaults: {duration: 3s, warmup: 500ms, seed: 1}
components:
  - name: cache
    target: redis://127.0.0.1:6379/0
    workload:
      rate: 600
      arrival: poisson
      connections: 4
      timeout: 1s
      keys: {count: 10000, distribution: zipf, prefix: "tailgate:sharded:"}
      value_size: 128
      mix: {get: 90, set: 10}
    slo:
      minimum:
        get: {p99: 1s}
        all: {p99: 1s, error_rate: 1%, throughput: 90%}
`

// The sharded pipeline end to end on loopback: three `run --shard I/3` at
// once against one redis-server, `merge`, then `check` of the merged result.
func TestShardedRunMergeAndCheck(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	dir := t.TempDir()
	plan := writePlan(t, shardedPlan)
	target := "cache=redis://" + srv.Addr + "/0"
	shardFile := func(i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)) }

	var wg sync.WaitGroup
	runs := make([]invocation, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = invoke(t, nil, "run", "-c", plan, "--target", target,
				"--shard", fmt.Sprintf("%d/3", i+1), "--out", shardFile(i+1))
		}()
	}
	wg.Wait()
	var sum int64
	for i := range 3 {
		// A shard alone sends a third of the samples the plan's bars were
		// sized for: it is not judged, only measured and written; it says
		// so, with no verdict word.
		assert.Equal(t, 0, runs[i].code, "shard %d", i+1)
		assert.Contains(t, runs[i].stdout, fmt.Sprintf("tailgate: NOT JUDGED: shard %d of 3 written; it is judged after merge", i+1))
		assert.NotContains(t, runs[i].stdout, "PASS")
		assert.NotContains(t, runs[i].stdout, "STATUS", "no table of objectives")
		r, err := result.Read(shardFile(i + 1))
		require.NoError(t, err, "shard %d wrote its result", i+1)
		require.True(t, r.Complete)
		all := r.Components[0].Operation("all")
		sum += all.Count
	}

	merged := filepath.Join(dir, "merged.json")
	inv := invoke(t, nil, "merge", shardFile(3), shardFile(1), shardFile(2), "--out", merged)
	require.Equal(t, 0, inv.code)
	assert.Contains(t, inv.stdout, "merged 3 shards")
	m, err := result.Read(merged)
	require.NoError(t, err)
	assert.Nil(t, m.Shard)
	assert.Equal(t, sum, m.Components[0].Operation("all").Count)
	assert.InDelta(t, 600, m.Components[0].AskedRate, 1e-9)

	inv = invoke(t, nil, "check", "-c", plan, merged)
	assert.Contains(t, []int{0, 1}, inv.code, "the merged result has the samples to judge every bar")
	assert.Contains(t, inv.stdout, "4 required objectives")
	assert.NotContains(t, inv.stdout, "INSUFFICIENT")

	t.Run("a shard is not checked on its own: exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "check", "-c", plan, shardFile(1))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "shard 1 of 3: a shard result: merge the shards, then check the merged result")
		assert.NotContains(t, inv.stdout, "PASS")
	})
	t.Run("the reports of a shard say it is not judged", func(t *testing.T) {
		inv := invoke(t, nil, "report", shardFile(2), "--report-dir", filepath.Join(dir, "shard-2-reports"))
		assert.Equal(t, 0, inv.code)
		assert.Contains(t, inv.stdout, "(shard 2 of 3, not judged)")
		assert.Contains(t, readFile(t, filepath.Join(dir, "shard-2-reports", "report.md")), "### tailgate: **NOT JUDGED**")
	})
	t.Run("a shard is not compared with a whole run: exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "compare", merged, shardFile(1))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "the candidate is shard 1 of 3")
		assert.NotContains(t, inv.stdout, "beyond noise")
	})
	t.Run("a plan of another workload is refused: exit 2, naming what differs", func(t *testing.T) {
		other := writePlan(t, strings.Replace(shardedPlan, "rate: 600", "rate: 2500", 1))
		inv := invoke(t, nil, "check", "-c", other, merged)
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, `component "cache": rate 2500 in the plan, 600 in the result`)
		assert.NotContains(t, inv.stdout, "PASS")
	})

	t.Run("a missing shard is refused with exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "merge", shardFile(1), shardFile(3), "--out", filepath.Join(dir, "x.json"))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "shard 2 of 3 is missing")
	})
	t.Run("a shard given twice is refused with exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "merge", shardFile(1), shardFile(2), shardFile(2), shardFile(3), "--out", filepath.Join(dir, "x.json"))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "shard 2 of 3 is given twice")
	})
	t.Run("a result that is no shard is refused with exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "merge", merged, "--out", filepath.Join(dir, "x.json"))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "is not a shard result")
	})
	t.Run("--out naming a shard is refused with exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "merge", shardFile(1), shardFile(2), shardFile(3), "--out", shardFile(2))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "is one of the shards")
	})
	t.Run("merge without --out is refused with exit 2", func(t *testing.T) {
		inv := invoke(t, nil, "merge", shardFile(1))
		assert.Equal(t, 2, inv.code)
	})
}
