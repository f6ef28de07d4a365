package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// stagesPlan runs the cache in three stages over the fixture's 20 s: 2000/s,
// a ramp to 3000/s, and 3000/s, with bars on every stage and on one.
const stagesPlan = `version: 1
components:
  - name: session-cache
    target: redis://cache.internal:6379/0
    workload:
      stages:
        - {rate: 2000, duration: 5s}
        - {rate: 3000, duration: 10s, ramp: linear}
        - {rate: 3000, duration: 5s}
    slo:
      minimum:
        get:
          - {p99: 2ms}
          - {p99: 2ms, stage: all}
        all: {error_rate: 0.1%, stage: 3}
`

// stagesResult is the cache fixture cut into the plan's stages, as the
// engine records them, and judged against the plan.
func stagesResult(t *testing.T) *result.Result {
	t.Helper()
	plan, err := slo.Parse([]byte(stagesPlan), "perf/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The pass fixture's cache, already built for the other tests.
	res := clone(t, fixtures(t)["pass"])
	res.Warnings = nil
	c := res.Components[0]
	c.Target, c.Embedded, c.Objectives = "redis://:xxxxx@cache.internal:6379/0", false, nil
	stages := plan.Components[0].Workload.Stages
	for oi := range c.Operations {
		op := &c.Operations[oi]
		share := op.AskedRate / 2000
		if op.Name == slo.AllOperations {
			share = 1
		}
		ivals, err := op.IntervalHistograms()
		if err != nil {
			t.Fatal(err)
		}
		from := 0
		for i, st := range stages {
			n := int(st.Duration / time.Second)
			h := result.NewHistogram()
			var errs int64
			for k := from; k < from+n; k++ {
				ivals[k].MergeInto(h)
				errs += op.Intervals[k].Errors
			}
			s := result.StageResult{Index: i + 1, Rate: st.Rate, StartRate: slo.StartRate(stages, i), Ramp: string(st.Ramp),
				StartNS: int64(from) * fixtureInterval, EndNS: int64(from+n) * fixtureInterval,
				Count: h.TotalCount(), Errors: errs, LatencyNS: result.PercentilesOf(h), Histogram: result.EncodeHistogram(h)}
			s.AskedRate = (s.StartRate + s.Rate) / 2 * share
			s.AchievedRate = float64(s.Count) / float64(n)
			op.Stages = append(op.Stages, s)
			from += n
		}
	}
	res.Components = []result.ComponentResult{c}
	v, err := gate.Judge(plan, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.Apply(res)
	return clone(t, res)
}

// TestStagesRender renders a run in stages in every format: the stage
// objectives as rows of their own, a table of the stages, and on the
// charts the stages' boundaries and asked rate.
func TestStagesRender(t *testing.T) {
	t.Parallel()
	res := stagesResult(t)
	for _, f := range []struct {
		ext    string
		render func(io.Writer, *result.Result) error
	}{
		{"txt", Text}, {"md", Markdown}, {"junit.xml", JUnit}, {"html", HTML},
	} {
		t.Run("as "+f.ext, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.render(&buf, res); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range []string{"get (stage 2)", "all (stage 3)"} {
				if !strings.Contains(out, want) {
					t.Errorf("no objective row of %q", want)
				}
			}
			if f.ext != "junit.xml" && !strings.Contains(out, "2000→3000/s linear") {
				t.Error("no row of the ramp's stage")
			}
			if f.ext == "html" {
				checkBalanced(t, buf.Bytes())
				if n := strings.Count(out, `class="stage-boundary"`); n != 2*3 {
					t.Errorf("%d stage boundaries drawn, want 2 on each of the 2 waterfalls and the throughput chart", n)
				}
				if n := strings.Count(out, `class="stage-bar"`); n != 3 {
					t.Errorf("%d bars of a stage drawn, want get's p99 across each of its 3 stages", n)
				}
			}
			golden.Check(t, "stages."+f.ext+".golden", buf.Bytes())
		})
	}
}
