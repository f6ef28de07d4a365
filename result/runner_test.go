package result_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tailgate-dev/tailgate/result"
)

// TestContentionsSumOnlyWhatEveryRunnerRecords: runners are compared on
// the same terms, so a figure (CPU pressure, steal) only some of them
// record is left out of every sum, and with none recorded by all there is
// nothing to compare.
func TestContentionsSumOnlyWhatEveryRunnerRecords(t *testing.T) {
	share := func(v float64) *float64 { return &v }
	both := func(p, s float64) result.Contention { return result.Contention{Pressure: share(p), Steal: share(s)} }
	for _, tt := range []struct {
		name string
		cs   []result.Contention
		want []float64
		ok   bool
	}{
		{"both figures everywhere are summed", []result.Contention{both(0.05, 0.01), both(0.2, 0.1)}, []float64{0.06, 0.3}, true},
		{"a steal only one records is left out of all", []result.Contention{both(0.05, 0.3), {Pressure: share(0.06)}}, []float64{0.05, 0.06}, true},
		{"a steal alone everywhere is compared", []result.Contention{{Steal: share(0.01)}, {Steal: share(0.25)}, {Steal: share(0.3)}}, []float64{0.01, 0.25, 0.3}, true},
		{"a pressure one does not record and a steal the other does not leave nothing", []result.Contention{{Pressure: share(0.1)}, {Steal: share(0.1)}}, nil, false},
		{"a runner without a record leaves nothing", []result.Contention{both(0.05, 0.01), {}}, nil, false},
		{"no runners leave nothing", nil, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := result.Contentions(tt.cs...)
			assert.Equal(t, tt.ok, ok)
			assert.InDeltaSlice(t, tt.want, got, 1e-12)
		})
	}
}

// TestRunnerContentionComparesOnTheOthersTerms: a runner's contention
// against another counts only the figures both record; a nil runner has
// none.
func TestRunnerContentionComparesOnTheOthersTerms(t *testing.T) {
	share := func(v float64) *float64 { return &v }
	stolen := &result.Runner{CPUPressure: share(0.06), CPUSteal: share(0.3)}
	pressured := &result.Runner{CPUPressure: share(0.07)}
	c, ok := stolen.Contention(pressured)
	assert.True(t, ok)
	assert.InDelta(t, 0.06, c, 1e-12, "the steal the other does not record is left out")
	c, ok = stolen.Contention(stolen)
	assert.True(t, ok)
	assert.InDelta(t, 0.36, c, 1e-12)
	_, ok = stolen.Contention(nil)
	assert.False(t, ok)
	_, ok = (*result.Runner)(nil).Contention(stolen)
	assert.False(t, ok)
}
