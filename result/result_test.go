package result

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// FuzzDecode feeds the result decoder truncated, corrupt and foreign
// files: it must answer ErrInvalid or a sound result, never panic.
func FuzzDecode(f *testing.F) {
	h := NewHistogram()
	for i := int64(1); i <= 100; i++ {
		h.RecordValue(i * 1000)
	}
	good := &Result{Schema: Schema, Verdict: status.VerdictPass, Complete: true, StartedAt: time.Unix(0, 0).UTC(),
		MeasuredNS: 1e9, IntervalNS: 1e9, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{
			Name: slo.AllOperations, Count: 100, Histogram: EncodeHistogram(h), ServiceHistogram: EncodeHistogram(h),
			LatencyNS: PercentilesOf(h), ServiceNS: PercentilesOf(h),
			Intervals: []Interval{{Count: 100, Histogram: EncodeHistogram(h)}},
		}}}}}
	data, err := good.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	staged := *good
	staged.Components = []ComponentResult{good.Components[0]}
	op := &staged.Components[0].Operations[0]
	op.Stages = []StageResult{{Index: 1, Rate: 100, StartRate: 100, StartNS: 0, EndNS: 1e9, Count: 100, AskedRate: 100, AchievedRate: 100,
		LatencyNS: PercentilesOf(h), Histogram: EncodeHistogram(h)}}
	if data, err = staged.Encode(); err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	// With client delays, the whole run's and the interval's, and the
	// interval's latencies less them.
	clients := *good
	clients.Components = []ComponentResult{good.Components[0]}
	cop := &clients.Components[0].Operations[0]
	cop.Intervals = []Interval{{Count: 100, Histogram: EncodeHistogram(h), ClientDelayHistogram: EncodeHistogram(h), LatencyLessClientHistogram: EncodeHistogram(h)}}
	cop.SetClientDelay(h, h)
	if data, err = clients.Encode(); err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"schema": "tailgate.result/v1", "verdict": "pass", "components": [{"name": "x", "operations": [{"name": "all", "count": 3, "histogram": "HISTFAAAAB"}]}]}`))
	f.Add([]byte(`{"schema": "k6.summary"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		for _, c := range r.Components {
			for _, o := range c.Operations {
				if _, err := o.WholeHistogram(); err != nil {
					t.Fatalf("accepted result has a bad histogram: %v", err)
				}
				var count int64
				for _, s := range o.Stages {
					if _, err := s.StageHistogram(); err != nil {
						t.Fatalf("accepted result has a bad stage histogram: %v", err)
					}
					count += s.Count
				}
				if len(o.Stages) > 0 && count != o.Count {
					t.Fatalf("accepted stages count %d, their operation %d", count, o.Count)
				}
			}
		}
	})
}

func TestObjectivesWithoutFiniteNumbersStillWrite(t *testing.T) {
	r := &Result{Schema: Schema, Verdict: status.VerdictFail, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{Name: "all"}},
		Objectives: []status.ObjectiveResult{
			{Metric: "error_rate", MeasuredValue: 0.02, ThresholdValue: 0, Margin: math.Inf(1), Status: status.Fail},
			{Metric: "p99", IntervalLow: math.NaN(), PValue: math.NaN(), Margin: 0.25, Status: status.Pass},
			{Metric: "error_rate", Tier: "regression", IntervalLow: 2.5, IntervalHigh: math.Inf(1), Margin: math.Inf(1), Status: status.Fail},
		}}}}
	data, err := r.Encode()
	if err != nil {
		t.Fatalf("a margin above a zero bar must not stop the result being written: %v", err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Components[0].Objectives
	if !math.IsInf(got[0].Margin, 1) || got[1].Margin != 0.25 || got[1].IntervalLow != 0 || !math.IsInf(got[2].IntervalHigh, 1) || got[2].IntervalLow != 2.5 {
		t.Fatalf("round trip: %+v", got)
	}
}

// TestObjectiveStatusesDecodeStrictly reads a result file written before
// no-change had a name ("~"), and refuses a status tailgate does not know
// rather than reading it as a pass.
func TestObjectiveStatusesDecodeStrictly(t *testing.T) {
	file := func(st string) []byte {
		return []byte(`{"schema": "tailgate.result/v1", "verdict": "pass", "complete": true, "components": [{"name": "c",
			"operations": [{"name": "all"}], "objectives": [{"tier": "regression", "operation": "get", "metric": "p99", "status": "` + st + `"}]}]}`)
	}
	r, err := Decode(file("~"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Components[0].Objectives[0].Status; got != status.NoChange {
		t.Fatalf(`"~" decodes to %q, want %q`, got, status.NoChange)
	}
	if _, err := Decode(file("okay")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown status: err %v, want ErrInvalid", err)
	}
}

// consistentResult is a sound result whose stored percentiles are read from
// its histograms, as tailgate writes them: latency, service time, client
// delay and the runner's probes.
func consistentResult(t *testing.T) *Result {
	t.Helper()
	latency, service, client, lessClient := NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()
	wake, cpu := NewHistogram(), NewHistogram()
	for i := int64(1); i <= 1000; i++ {
		for _, rec := range []struct {
			h *hdrhistogram.Histogram
			v int64
		}{{latency, i * 1000}, {service, i * 900}, {client, i * 10}, {lessClient, i * 990}, {wake, i * 7}, {cpu, 3000 + i}} {
			if err := rec.h.RecordValue(rec.v); err != nil {
				t.Fatal(err)
			}
		}
	}
	op := OperationResult{Name: slo.AllOperations, Count: latency.TotalCount(),
		LatencyNS: PercentilesOf(latency), Histogram: EncodeHistogram(latency),
		ServiceNS: PercentilesOf(service), ServiceHistogram: EncodeHistogram(service),
		Intervals: []Interval{{Count: latency.TotalCount(), Histogram: EncodeHistogram(latency)}}}
	op.SetClientDelay(client, lessClient)
	return &Result{Schema: Schema, Verdict: status.VerdictPass, Complete: true, MeasuredNS: 1e9, IntervalNS: 1e9,
		Runner:     RunnerOf(wake, cpu, 2),
		Components: []ComponentResult{{Name: "c", Operations: []OperationResult{op}}}}
}

// decodeCase is an edit of a sound result and what decoding the edited
// result must refuse: an error naming refuse, or none when refuse is "".
type decodeCase struct {
	name   string
	edit   func(r *Result)
	refuse string
}

// checkDecodes runs each case on a fresh result from sound: it encodes the
// edited result and decodes it again, which must refuse it with ErrInvalid
// naming the case's refuse, or take it.
func checkDecodes(t *testing.T, sound func(*testing.T) *Result, tests []decodeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sound(t)
			tt.edit(r)
			data, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(data)
			switch {
			case tt.refuse == "" && err != nil:
				t.Fatalf("a sound result is refused: %v", err)
			case tt.refuse != "" && err == nil:
				t.Fatalf("decoded; want a refusal naming %q", tt.refuse)
			case tt.refuse != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.refuse)):
				t.Fatalf("error %v: want ErrInvalid naming %q", err, tt.refuse)
			}
		})
	}
}

// TestDecodeRefusesPercentilesTheHistogramsDoNotGive: minimum bars are
// judged on the stored percentiles and regressions on the histograms, so a
// file whose stored percentiles are not its histograms' (edited by hand,
// written by a faulty tool) is refused rather than judged on two different
// measurements; a value in the same histogram bucket is the same value.
func TestDecodeRefusesPercentilesTheHistogramsDoNotGive(t *testing.T) {
	op := func(r *Result) *OperationResult { return &r.Components[0].Operations[0] }
	checkDecodes(t, consistentResult, []decodeCase{
		{"percentiles read from the histograms", func(*Result) {}, ""},
		{"a stored p99 in the histogram's own bucket", func(r *Result) { op(r).LatencyNS.P99-- }, ""},
		{"a stored p99 lower than the histogram's", func(r *Result) { op(r).LatencyNS.P99 /= 2 }, "stored latency p99"},
		{"a stored max above the histogram's", func(r *Result) { op(r).LatencyNS.Max *= 2 }, "stored latency max"},
		{"a stored p50 of zero", func(r *Result) { op(r).LatencyNS.P50 = 0 }, "stored latency p50"},
		{"a stored mean off the histogram's", func(r *Result) { op(r).LatencyNS.Mean += 10_000 }, "stored latency mean"},
		{"a stored service time off its histogram", func(r *Result) { op(r).ServiceNS.P999 += 100_000 }, "stored service time p99.9"},
		{"a stored client delay off its histogram", func(r *Result) { op(r).ClientDelayNS.P9999 = 1 }, "stored client delay p99.99"},
		{"a stored latency less client off its histogram", func(r *Result) { op(r).LatencyLessClientNS.P90 *= 3 }, "stored latency less client delay p90"},
		{"a stored runner wakeup off its histogram", func(r *Result) { r.Runner.WakeupNS.P99 = 1e6 }, "stored runner wakeup p99"},
		{"a stored runner cpu probe off its histogram", func(r *Result) { r.Runner.CPUProbeNS.P50 = 1 }, "stored runner cpu probe p50"},
		{"percentiles stored for an empty histogram", func(r *Result) {
			empty := EncodeHistogram(NewHistogram())
			o := op(r)
			o.Count, o.Histogram, o.Intervals = 0, empty, nil
			o.ClientDelayNS, o.ClientDelayHistogram, o.LatencyLessClientNS, o.LatencyLessClientHistogram = nil, "", nil, ""
		}, "stored latency p50"},
		{"an older file without a service histogram", func(r *Result) { op(r).ServiceHistogram = "" }, ""},
	})
}

// TestDecodeChecksTheIntervalsLatenciesLessClient: an interval's latencies
// less client delays, which the client-bound rule reads as what the target
// itself took in the slice, hold one sample per client delay of the
// interval; a file without them (older) is read as it was.
func TestDecodeChecksTheIntervalsLatenciesLessClient(t *testing.T) {
	op := func(r *Result) *OperationResult { return &r.Components[0].Operations[0] }
	iv := func(r *Result) *Interval { return &r.Components[0].Operations[0].Intervals[0] }
	short := NewHistogram()
	_ = short.RecordValue(1000)
	checkDecodes(t, consistentResult, []decodeCase{
		{"an older file without them", func(*Result) {}, ""},
		{"one per client delay of the interval", func(r *Result) {
			iv(r).ClientDelayHistogram, iv(r).LatencyLessClientHistogram = op(r).ClientDelayHistogram, op(r).LatencyLessClientHistogram
		}, ""},
		{"fewer than its client delays", func(r *Result) {
			iv(r).ClientDelayHistogram, iv(r).LatencyLessClientHistogram = op(r).ClientDelayHistogram, EncodeHistogram(short)
		}, "interval 0: latency less client histogram holds 1 samples, the client delay histogram 1000"},
		{"without its client delays", func(r *Result) { iv(r).LatencyLessClientHistogram = op(r).LatencyLessClientHistogram },
			"interval 0: latency less client histogram holds 1000 samples, the client delay histogram 0"},
		{"one that does not decode", func(r *Result) {
			iv(r).ClientDelayHistogram, iv(r).LatencyLessClientHistogram = op(r).ClientDelayHistogram, "not a histogram"
		}, "interval 0: latency less client histogram"},
	})
}

// TestDecodeChecksTheOperationsIntervals: each interval's latency histogram
// decodes and holds its interval's count, as the windows that judge the
// histograms and the charts that draw the counts read the same run.
func TestDecodeChecksTheOperationsIntervals(t *testing.T) {
	iv := func(r *Result) *Interval { return &r.Components[0].Operations[0].Intervals[0] }
	checkDecodes(t, consistentResult, []decodeCase{
		{"an interval that holds its count", func(*Result) {}, ""},
		{"a count its histogram does not hold", func(r *Result) { iv(r).Count++ }, "interval 0: histogram holds 1000 samples, count says 1001"},
		{"a histogram that does not decode", func(r *Result) { iv(r).Histogram = "not a histogram" }, "interval 0: histogram"},
	})
}

// TestDecodeChecksClientUnsent: the unsent operations tailgate's own
// lateness explains are some of the unsent ones.
func TestDecodeChecksClientUnsent(t *testing.T) {
	op := func(r *Result) *OperationResult { return &r.Components[0].Operations[0] }
	unsent := func(n, own int64) func(r *Result) {
		return func(r *Result) {
			o := op(r)
			o.Errors, o.ErrorKinds, o.ClientUnsent = n, map[string]int64{KindUnsent: n}, own
		}
	}
	checkDecodes(t, consistentResult, []decodeCase{
		{"some of the unsent", unsent(5, 3), ""},
		{"all of them", unsent(5, 5), ""},
		{"more than were unsent", unsent(5, 6), "client_unsent 6, of 5 unsent operations"},
		{"negative", unsent(5, -1), "client_unsent -1, of 5 unsent operations"},
	})
}

// TestDecodeChecksTheRunnersIntervals: the runner's intervals decode, run
// forward from the measured window's start and hold no more wake-ups than
// the whole run's record.
func TestDecodeChecksTheRunnersIntervals(t *testing.T) {
	wakeups := func(n int) string {
		h := NewHistogram()
		for i := range n {
			_ = h.RecordValue(int64(1000 + i))
		}
		return EncodeHistogram(h)
	}
	withIntervals := func(offsets []int64, counts []int) func(r *Result) {
		return func(r *Result) {
			for i, at := range offsets {
				r.Runner.Intervals = append(r.Runner.Intervals, RunnerInterval{OffsetNS: at, WakeupHistogram: wakeups(counts[i])})
			}
		}
	}
	checkDecodes(t, consistentResult, []decodeCase{
		{"intervals of the measured window", withIntervals([]int64{0, 1e9}, []int{400, 500}), ""},
		{"an interval before the measured window", withIntervals([]int64{-1e9, 0}, []int{1, 1}), "runner interval 0 starts at -1000000000 ns, before the measured window"},
		{"intervals out of order", withIntervals([]int64{1e9, 1e9}, []int{1, 1}), "runner interval 1 starts at 1000000000 ns, not after interval 0"},
		{"more wake-ups than the whole run's", withIntervals([]int64{0, 1e9}, []int{600, 500}), "runner intervals hold 1100 wake-ups, the whole run 1000"},
		{"an interval that does not decode", func(r *Result) {
			r.Runner.Intervals = []RunnerInterval{{WakeupHistogram: "not a histogram"}}
		}, "runner interval 0: wakeup histogram"},
	})
	a, b := consistentResult(t), consistentResult(t)
	withIntervals([]int64{0}, []int{10})(a)
	withIntervals([]int64{0}, []int{20})(b)
	merged, err := Concat([]*Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if merged.Runner == nil || merged.Runner.Intervals != nil {
		t.Errorf("joined runner %+v: want the whole-run record without intervals", merged.Runner)
	}
}

// TestTheRunnersCPUPressure: a CPU pressure (and a steal) decodes only as
// a share, a merge weighs the parts' by how long each ran (its wake-ups)
// and keeps one only when every part has one, and a slice of the run has
// none.
func TestTheRunnersCPUPressure(t *testing.T) {
	share := func(v float64) func(r *Result) {
		return func(r *Result) { r.Runner.CPUPressure = &v }
	}
	checkDecodes(t, consistentResult, []decodeCase{
		{"a share", share(0.25), ""},
		{"none at all", share(0), ""},
		{"a stall throughout", share(1), ""},
		{"below none", share(-0.01), "runner cpu_pressure -0.01 is not a share within [0, 1]"},
		{"above the whole window", share(1.5), "runner cpu_pressure 1.5 is not a share within [0, 1]"},
		{"a steal", func(r *Result) { v := 0.2; r.Runner.CPUSteal = &v }, ""},
		{"a steal above the whole time", func(r *Result) { v := 1.01; r.Runner.CPUSteal = &v }, "runner cpu_steal 1.01 is not a share within [0, 1]"},
	})
	// wakeups gives a result's runner n wake-ups.
	withWakeups := func(r *Result, n int) {
		h := NewHistogram()
		for i := range n {
			_ = h.RecordValue(int64(1000 + i))
		}
		r.Runner = RunnerOf(h, h, 2)
	}
	for _, tt := range []struct {
		name       string
		pressures  []float64 // a negative one is unrecorded
		wakeups    []int
		want       float64
		unrecorded bool
	}{
		{"weighed by how long each part ran", []float64{0.1, 0.4}, []int{300, 100}, 0.175, false},
		{"equal parts", []float64{0.2, 0.3}, []int{50, 50}, 0.25, false},
		{"a part without one", []float64{0.2, -1}, []int{50, 50}, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var parts []*Result
			for i, p := range tt.pressures {
				r := consistentResult(t)
				withWakeups(r, tt.wakeups[i])
				if p >= 0 {
					r.Runner.CPUPressure = &p
					steal := p / 2
					r.Runner.CPUSteal = &steal
				}
				parts = append(parts, r)
			}
			merged, err := Concat(parts)
			if err != nil {
				t.Fatal(err)
			}
			got := merged.Runner.CPUPressure
			switch {
			case tt.unrecorded && got != nil:
				t.Errorf("merged CPU pressure %v, want none", *got)
			case !tt.unrecorded && (got == nil || math.Abs(*got-tt.want) > 1e-9):
				t.Errorf("merged CPU pressure %v, want %v", got, tt.want)
			}
			switch steal := merged.Runner.CPUSteal; {
			case tt.unrecorded && steal != nil:
				t.Errorf("merged steal %v, want none", *steal)
			case !tt.unrecorded && (steal == nil || math.Abs(*steal-tt.want/2) > 1e-9):
				t.Errorf("merged steal %v, want %v", steal, tt.want/2)
			}
		})
	}
	r := consistentResult(t)
	r.Runner.Intervals = []RunnerInterval{{OffsetNS: 0, WakeupHistogram: r.Runner.WakeupHistogram}, {OffsetNS: 1e9, WakeupHistogram: EncodeHistogram(NewHistogram())}}
	share(0.3)(r)
	r.Runner.CPUSteal = r.Runner.CPUPressure
	if got := r.Runner.Over(0, 1e9, 1e9); got == r.Runner || got.CPUPressure != nil || got.CPUSteal != nil {
		t.Errorf("a slice's runner %+v: want its own record, without the whole window's CPU pressure and steal", got)
	}
}

// TestRunnerOverASliceReadsItsIntervals: a slice on interval boundaries
// reads the wake-ups of the intervals it covers (the last one to the end of
// the window); any other slice, or a record without intervals, the whole
// run's.
func TestRunnerOverASliceReadsItsIntervals(t *testing.T) {
	wake, cpu := NewHistogram(), NewHistogram()
	r := RunnerOf(wake, cpu, 2)
	for i := range 4 {
		h := NewHistogram()
		for range i + 1 { // interval i holds i+1 wake-ups of (i+1) ms
			_ = h.RecordValue(int64(i+1) * 1e6)
			_ = wake.RecordValue(int64(i+1) * 1e6)
		}
		r.Intervals = append(r.Intervals, RunnerInterval{OffsetNS: int64(i) * 1e9, WakeupHistogram: EncodeHistogram(h)})
	}
	whole := RunnerOf(wake, cpu, 2)
	r.WakeupNS, r.WakeupHistogram = whole.WakeupNS, whole.WakeupHistogram
	for _, tt := range []struct {
		name     string
		from, to int64
		want     int64 // wake-ups read; 10 is the whole run's
	}{
		{"one interval", 1e9, 2e9, 2},
		{"two intervals", 1e9, 3e9, 5},
		{"to the end of the window", 2e9, 4e9, 7},
		{"past the last interval's start, to the end", 3e9, 3.5e9, 4},
		{"a start inside an interval", 0.5e9, 2e9, 10},
		{"an end inside an interval before the last", 0, 1.5e9, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := r.Over(tt.from, tt.to, 1e9).Wakeups()
			if err != nil {
				t.Fatal(err)
			}
			if h.TotalCount() != tt.want {
				t.Errorf("read %d wake-ups, want %d", h.TotalCount(), tt.want)
			}
		})
	}
	if got := (&Runner{WakeupHistogram: r.WakeupHistogram}).Over(0, 1e9, 1e9); got.WakeupHistogram != r.WakeupHistogram {
		t.Error("a record without intervals must read the whole run's")
	}
	var none *Runner
	if none.Over(0, 1e9, 1e9) != nil {
		t.Error("no record stays none")
	}
}

// TestDecodeRefusesDataAfterTheResult: a file holding a result and more
// (two results written into one, a result and stray bytes) is not a result,
// as a capacity file with more is not a capacity file; white space after it
// is.
func TestDecodeRefusesDataAfterTheResult(t *testing.T) {
	data, err := consistentResult(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		after  string
		refuse bool
	}{
		{"the result as written", "", false},
		{"white space after it", "\n\t \n", false},
		{"a second result after it", string(data), true},
		{"a stray brace after it", "}", true},
		{"stray text after it", "garbage", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(append(slices.Clone(data), tt.after...))
			switch {
			case !tt.refuse && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.refuse && !errors.Is(err, ErrInvalid):
				t.Fatalf("got %v, want ErrInvalid", err)
			case tt.refuse && !strings.Contains(err.Error(), "after the file's JSON"):
				t.Fatalf("got %v, want a refusal of the data after the result", err)
			}
		})
	}
}
