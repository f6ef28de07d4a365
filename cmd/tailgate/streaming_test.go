package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/interop"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// streamingPlan loads a server-streaming and a bidirectional method of the
// interop TestService, with bars on both latencies; bar is the first
// message's p90 bar of watch.
func streamingPlan(addr, bar string) string {
	return `version: 1
defaults: {duration: 1500ms, warmup: 200ms}
components:
  - name: feed
    target: grpc://` + addr + `
    workload:
      rate: 200
      arrival: uniform
      connections: 2
      requests:
        - name: watch
          method: grpc.testing.TestService/StreamingOutputCall
          body: '{"responseParameters": [{"size": 64}, {"size": 64, "intervalUs": 1000}, {"size": 64, "intervalUs": 1000}]}'
        - name: chat
          method: grpc.testing.TestService/FullDuplexCall
          messages: 3
          body: '{"responseParameters": [{"size": 16}], "responseStatus": {"message": "{{key}}"}}'
    slo:
      minimum:
        watch: {first_message.p90: ` + bar + `, p90: 1s}
        chat: {first_message.max: 1s, complete.p90: 1s}
        all: {error_rate: 0%}
`
}

// A streaming plan end to end: run judges both latencies and writes them in
// the result and the reports; shards of it merge into one result that
// check judges alike; a first-message bar the run misses fails it.
func TestStreamingMethodsEndToEnd(t *testing.T) {
	t.Parallel()
	addr := startGRPC(t, interop.NewTestServer())
	plan := writePlan(t, streamingPlan(addr, "1s"))
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	reports := filepath.Join(dir, "reports")
	inv := invoke(t, nil, "run", "-c", plan, "--out", out, "--report-dir", reports)
	require.Equal(t, 0, inv.code)
	res, err := result.Read(out)
	require.NoError(t, err)
	c := res.Component("feed")
	for name, perCall := range map[string]int64{"watch": 3, "chat": 3} {
		op := c.Operation(name)
		require.NotNil(t, op.FirstMessageNS, name)
		assert.Zero(t, op.Errors, "%s: %v", name, op.ErrorKinds)
		assert.Equal(t, perCall*op.Count, op.Messages, name)
		assert.Less(t, op.FirstMessageNS.P50, op.LatencyNS.P50, "%s: the first of three messages comes before the end", name)
	}
	for _, o := range c.Objectives {
		assert.Equal(t, "pass", string(o.Status), "%s %s: %s %s", o.Operation, o.Metric, o.Measured, o.Detail)
	}
	assert.Contains(t, inv.stdout, "first_message.p90")
	assert.Contains(t, inv.stdout, `streams of "feed"`)
	assertFilesSay(t, reports, map[string]string{"report.txt": `streams of "feed"`, "report.md": "Streams of feed", "result.json": `"first_message_ns"`})

	// Two shards of the same plan, merged, judged again without load.
	var shards []string
	for _, shard := range []string{"1/2", "2/2"} {
		path := filepath.Join(dir, "shard"+shard[:1]+".json")
		require.Equal(t, 0, invoke(t, nil, "run", "-c", plan, "--shard", shard, "--out", path).code)
		shards = append(shards, path)
	}
	merged := filepath.Join(dir, "merged.json")
	require.Equal(t, 0, invoke(t, nil, append(append([]string{"merge"}, shards...), "--out", merged)...).code)
	m, err := result.Read(merged)
	require.NoError(t, err)
	for _, name := range []string{"watch", "chat", slo.AllOperations} {
		var messages, firsts int64
		for _, path := range shards {
			s, err := result.Read(path)
			require.NoError(t, err)
			op := s.Component("feed").Operation(name)
			h, err := op.FirstMessages()
			require.NoError(t, err)
			messages += op.Messages
			firsts += h.TotalCount()
		}
		op := m.Component("feed").Operation(name)
		h, err := op.FirstMessages()
		require.NoError(t, err)
		assert.Equal(t, messages, op.Messages, "%s: the shards' messages", name)
		assert.Equal(t, firsts, h.TotalCount(), "%s: the shards' first messages", name)
	}
	require.Equal(t, 0, invoke(t, nil, "check", "-c", plan, merged).code)

	// The same result against a first-message bar it misses.
	strict := writePlan(t, streamingPlan(addr, "1us"))
	inv = invoke(t, nil, "check", "-c", strict, out)
	assert.Equal(t, 1, inv.code)
	var failed bool
	for _, line := range strings.Split(inv.stdout, "\n") {
		failed = failed || strings.Contains(line, "first_message.p90") && strings.Contains(line, "FAIL")
	}
	assert.True(t, failed, "the report names the failed first_message.p90")
}
