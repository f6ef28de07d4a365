package result_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// node is a node record holding the given latencies.
func node(t *testing.T, addr string, errors int64, latencies ...int64) result.NodeResult {
	t.Helper()
	h := result.NewHistogram()
	for _, v := range latencies {
		require.NoError(t, h.RecordValue(v))
	}
	n := result.NodeResult{Address: addr, Count: h.TotalCount(), Errors: errors,
		LatencyNS: result.PercentilesOf(h), Histogram: result.EncodeHistogram(h)}
	if errors > 0 {
		n.ErrorKinds = map[string]int64{"redis MOVED": errors}
	}
	return n
}

// decodable is fakeShard's result of one runner, with its operation's
// stored percentiles read from its histograms, as Decode wants them.
func decodable(t *testing.T, latencies ...int64) *result.Result {
	t.Helper()
	r := fakeShard(t, 1, 1, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), latencies...)
	r.Shard = nil
	op := &r.Components[0].Operations[0]
	h, err := op.WholeHistogram()
	require.NoError(t, err)
	op.LatencyNS, op.ServiceNS = result.PercentilesOf(h), result.PercentilesOf(h)
	return r
}

func TestNodesSurviveTheResultFile(t *testing.T) {
	r := decodable(t, 1000, 2000)
	r.Components[0].Nodes = []result.NodeResult{node(t, "127.0.0.1:7000", 1, 1000), node(t, "127.0.0.1:7001", 0, 2000)}
	data, err := r.Encode()
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	assert.Equal(t, r.Components[0].Nodes, back.Components[0].Nodes)
	assert.EqualValues(t, 1, back.Components[0].Node("127.0.0.1:7000").Count)
	assert.Nil(t, back.Components[0].Node("127.0.0.1:7002"))
}

func TestBadNodesAreRefused(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(n []result.NodeResult)
		want  string
	}{
		{"a count its histogram does not hold", func(n []result.NodeResult) { n[0].Count = 5 }, "histogram holds 1 samples, count says 5"},
		{"a stored p99 its histogram does not have", func(n []result.NodeResult) { n[0].LatencyNS.P99 = 9e6 }, "p99"},
		{"an address twice", func(n []result.NodeResult) { n[1].Address = n[0].Address }, "listed twice"},
		{"no address", func(n []result.NodeResult) { n[1].Address = "" }, "no address"},
		{"negative errors", func(n []result.NodeResult) { n[1].Errors = -1 }, "negative"},
		{"a histogram that is not one", func(n []result.NodeResult) { n[1].Histogram = "x" }, "histogram"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := decodable(t, 1000)
			nodes := []result.NodeResult{node(t, "127.0.0.1:7000", 0, 1000), node(t, "127.0.0.1:7001", 0)}
			tt.spoil(nodes)
			r.Components[0].Nodes = nodes
			data, err := r.Encode()
			require.NoError(t, err)
			_, err = result.Decode(data)
			require.ErrorIs(t, err, result.ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Shards of one run may have met the nodes in another order, or not all
// of them: their records join by address.
func TestMergeJoinsNodesByAddress(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := fakeShard(t, 1, 2, t0, 1000, 2000)
	b := fakeShard(t, 2, 2, t0, 3000)
	a.Components[0].Nodes = []result.NodeResult{node(t, "n1:1", 0, 1000), node(t, "n2:1", 1, 2000)}
	b.Components[0].Nodes = []result.NodeResult{node(t, "n3:1", 0), node(t, "n2:1", 2, 3000)}
	m, err := result.Merge([]*result.Result{a, b}, nil)
	require.NoError(t, err)
	nodes := m.Components[0].Nodes
	require.Len(t, nodes, 3)
	assert.Equal(t, []string{"n1:1", "n2:1", "n3:1"}, []string{nodes[0].Address, nodes[1].Address, nodes[2].Address})
	n2 := m.Components[0].Node("n2:1")
	assert.EqualValues(t, 2, n2.Count)
	assert.EqualValues(t, 3, n2.Errors)
	assert.EqualValues(t, 3, n2.ErrorKinds["redis MOVED"])
	assert.InDelta(t, 3000, n2.LatencyNS.Max, 3, "the merged histogram holds both shards' samples")
	assert.InDelta(t, 2/2.0, n2.AchievedRate, 1e-9, "2 successes over the 2 s window")

	c, err := result.Concat([]*result.Result{a, b})
	require.NoError(t, err)
	assert.EqualValues(t, 2, c.Components[0].Node("n2:1").Count, "consecutive segments add up too")
}
