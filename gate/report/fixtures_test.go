package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// The fixtures are results as a run would write them, with real histograms
// of seeded random latencies, judged by hand the way the gate judges.

var fixtureStart = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const (
	fixtureIntervals = 20
	fixtureInterval  = int64(time.Second)
)

// opSpec describes one operation's load: samples per interval and how to
// draw a latency in a given interval.
type opSpec struct {
	name      string
	perSecond int
	latency   func(rng *rand.Rand, interval int) int64
	// errors returns how many operations failed in an interval.
	errors     func(interval int) int64
	errorKinds map[string]int64
}

// logNormal draws a latency with the given median and shape.
func logNormal(median time.Duration, sigma float64) func(*rand.Rand, int) int64 {
	return func(rng *rand.Rand, _ int) int64 {
		return int64(float64(median) * math.Exp(sigma*rng.NormFloat64()))
	}
}

// withStall adds a stall: in the given interval, share of the operations
// wait an extra uniform 5 to 15ms.
func withStall(base func(*rand.Rand, int) int64, at int, share float64) func(*rand.Rand, int) int64 {
	return func(rng *rand.Rand, interval int) int64 {
		v := base(rng, interval)
		if interval == at && rng.Float64() < share {
			v += int64(5*time.Millisecond) + rng.Int64N(int64(10*time.Millisecond))
		}
		return v
	}
}

func encode(t testing.TB, h *hdrhistogram.Histogram) string {
	t.Helper()
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// record adds v to h. It runs for every sample of every fixture, so it
// names the value instead of calling t.Helper, whose stack walk would cost
// more than the recording.
func record(t testing.TB, h *hdrhistogram.Histogram, v int64) {
	if err := h.RecordValue(v); err != nil {
		t.Fatalf("recording %d ns: %v", v, err)
	}
}

// makeComponent measures a component: its operations and their "all".
func makeComponent(t testing.TB, seed uint64, name, target, protocol string, intervals int, ops ...opSpec) result.ComponentResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 42))
	window := float64(intervals) * float64(fixtureInterval) / 1e9
	c := result.ComponentResult{Name: name, Target: target, Protocol: protocol, WorkloadHash: fmt.Sprintf("sha256:%016x", seed)}
	all := result.OperationResult{Name: slo.AllOperations}
	allWhole, allService := result.NewHistogram(), result.NewHistogram()
	allClient, allLessClient := result.NewHistogram(), result.NewHistogram()
	allIntervals := make([]*hdrhistogram.Histogram, intervals)
	allErrors := make([]int64, intervals)
	for i := range allIntervals {
		allIntervals[i] = result.NewHistogram()
	}
	for _, spec := range ops {
		op := result.OperationResult{Name: spec.name, AskedRate: float64(spec.perSecond), ErrorKinds: spec.errorKinds}
		whole, service := result.NewHistogram(), result.NewHistogram()
		client, lessClient := result.NewHistogram(), result.NewHistogram()
		for i := 0; i < intervals; i++ {
			h := result.NewHistogram()
			// Poisson arrivals make counts vary a little from second to second.
			n := spec.perSecond + int(math.Round(float64(spec.perSecond)*0.015*math.Sin(float64(i)*1.7+float64(seed))))
			for k := 0; k < n; k++ {
				v := spec.latency(rng, i)
				// Recorded into the sums as well: merging a histogram
				// walks every one of its slots.
				record(t, h, v)
				record(t, whole, v)
				record(t, allIntervals[i], v)
				record(t, service, v*4/5)
				record(t, client, v/20) // tailgate itself sent 5% late
				record(t, lessClient, v-v/20)
			}
			var errs int64
			if spec.errors != nil {
				errs = spec.errors(i)
			}
			allErrors[i] += errs
			op.Errors += errs
			op.Intervals = append(op.Intervals, result.Interval{
				OffsetNS: int64(i) * fixtureInterval, Count: h.TotalCount(), Errors: errs, Histogram: encode(t, h),
			})
		}
		op.Count = whole.TotalCount()
		op.AchievedRate = float64(op.Count) / window
		op.LatencyNS, op.ServiceNS = result.PercentilesOf(whole), result.PercentilesOf(service)
		op.Histogram, op.ServiceHistogram = encode(t, whole), encode(t, service)
		op.SetClientDelay(client, lessClient)
		allClient.Merge(client)
		allLessClient.Merge(lessClient)
		allWhole.Merge(whole)
		allService.Merge(service)
		all.AddCounts(&op)
		all.AskedRate += op.AskedRate
		c.Operations = append(c.Operations, op)
	}
	c.AskedRate = all.AskedRate
	all.AchievedRate = float64(all.Count) / window
	all.LatencyNS, all.ServiceNS = result.PercentilesOf(allWhole), result.PercentilesOf(allService)
	all.Histogram, all.ServiceHistogram = encode(t, allWhole), encode(t, allService)
	all.SetClientDelay(allClient, allLessClient)
	for i, h := range allIntervals {
		all.Intervals = append(all.Intervals, result.Interval{
			OffsetNS: int64(i) * fixtureInterval, Count: h.TotalCount(), Errors: allErrors[i], Histogram: encode(t, h),
		})
	}
	c.Operations = append(c.Operations, all)
	return c
}

// judgeLatency judges a minimum or aspirational latency bar.
func judgeLatency(t testing.TB, c *result.ComponentResult, tier slo.Tier, op string, metric slo.Metric, bar string, line int) status.ObjectiveResult {
	t.Helper()
	d, err := slo.ParseDuration(bar)
	if err != nil {
		t.Fatal(err)
	}
	o := status.ObjectiveResult{Tier: string(tier), Operation: op, Metric: string(metric), Threshold: bar,
		ThresholdValue: float64(d), Line: line, Column: 9}
	or := c.Operation(op)
	if need := slo.MinSamples(metric); or.Count < need {
		o.Status = "insufficient"
		o.Measured = fmt.Sprintf("%d samples", or.Count)
		o.Detail = fmt.Sprintf("%s needs at least %d successful samples, the run has %d", metric, need, or.Count)
		return o
	}
	ns, err := or.LatencyNS.At(metric)
	if err != nil {
		t.Fatal(err)
	}
	o.MeasuredValue = float64(ns)
	o.Measured = slo.FormatDuration(time.Duration(ns))
	o.Margin = (o.MeasuredValue - o.ThresholdValue) / o.ThresholdValue
	pass, fail := status.Pass, status.Fail
	if tier == slo.TierAspirational {
		pass, fail = status.Met, status.Missed
	}
	o.Status = pass
	if o.MeasuredValue > o.ThresholdValue {
		o.Status = fail
	}
	// The 95% interval of the percentile, as the gate computes it.
	if q, ok := metric.Quantile(); ok {
		h, err := or.WholeHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if lo, _, hi, ok := stats.QuantileCI(h, q, 0.95); ok {
			o.IntervalLow, o.IntervalHigh = float64(lo), float64(hi)
		}
	}
	return o
}

// judgeErrorRate judges an error-rate bar written as a percent.
func judgeErrorRate(t testing.TB, c *result.ComponentResult, op, bar string, ratio float64, line int) status.ObjectiveResult {
	t.Helper()
	or := c.Operation(op)
	measured := float64(or.Errors) / float64(or.Count+or.Errors)
	o := status.ObjectiveResult{Tier: "minimum", Operation: op, Metric: "error_rate", Threshold: bar,
		ThresholdValue: ratio, MeasuredValue: measured, Measured: fmt.Sprintf("%.3g%%", measured*100),
		Margin: (measured - ratio) / ratio, Status: status.Pass, Line: line, Column: 9}
	if measured > ratio {
		o.Status = "fail"
	}
	return o
}

// judgeThroughput judges a throughput bar: achieved over asked rate.
func judgeThroughput(t testing.TB, c *result.ComponentResult, op, bar string, ratio float64, line int) status.ObjectiveResult {
	t.Helper()
	or := c.Operation(op)
	measured := or.AchievedRate / or.AskedRate
	o := status.ObjectiveResult{Tier: "minimum", Operation: op, Metric: "throughput", Threshold: bar,
		ThresholdValue: ratio, MeasuredValue: measured, Measured: fmt.Sprintf("%.4g%% (%.0f/s)", measured*100, or.AchievedRate),
		Margin: (ratio - measured) / ratio, Status: status.Pass, Line: line, Column: 9}
	if measured < ratio {
		o.Status = "fail"
	}
	return o
}

// regression is a judged regression objective, as the gate's statistics
// would have found it: the change's interval reaches below and above it.
func regression(op, metric, bar string, tol float64, cand, base int64, below, above, p float64, st status.Status) status.ObjectiveResult {
	change := float64(cand)/float64(base) - 1
	return status.ObjectiveResult{
		Tier: "regression", Operation: op, Metric: metric, Threshold: bar, ThresholdValue: tol,
		Measured: slo.FormatDuration(time.Duration(cand)), MeasuredValue: float64(cand),
		Baseline: slo.FormatDuration(time.Duration(base)), BaselineValue: float64(base),
		Margin: change, IntervalLow: change - below, IntervalHigh: change + above, PValue: p, Status: st,
		Line: 31, Column: 14,
	}
}

// inconclusive adds what the gate says of an inconclusive objective: the
// smallest regression the run could have shown, the tolerance plus the
// interval's reach below the estimate.
func inconclusive(o status.ObjectiveResult, below float64) status.ObjectiveResult {
	o.Detectable = o.ThresholdValue + below
	o.Detail = fmt.Sprintf("the interval [%s, %s] reaches past the +10%% tolerance without lying beyond it: "+
		"this run could only have shown a regression of %s or more", gate.SignedPercent(o.IntervalLow), gate.SignedPercent(o.IntervalHigh), gate.SignedPercent(o.Detectable))
	return o
}

// sortObjectives orders objectives as the gate does: what needs action
// first, then passes, then regressions without a significant change.
func sortObjectives(objectives []status.ObjectiveResult) {
	sort.SliceStable(objectives, func(i, j int) bool {
		return objectives[i].Status.Rank() < objectives[j].Status.Rank()
	})
}

func baseResult() *result.Result {
	return &result.Result{
		Schema: result.Schema, Tool: "tailgate v0.4.0", Complete: true, Plan: "perf/plan.yaml", Seed: 1,
		StartedAt: fixtureStart, WarmupNS: int64(10 * time.Second), MeasuredNS: fixtureIntervals * fixtureInterval,
		IntervalNS: fixtureInterval, Runner: fixtureRunner(),
	}
}

// fixtureRunner is a quiet runner: wake-ups 5 to 60 us late, the CPU
// probe 8 us, some task waiting for a CPU 6.2% of the time, 0.4% of its CPU time
// stolen.
func fixtureRunner() *result.Runner {
	wake, cpu := result.NewHistogram(), result.NewHistogram()
	for i := range 2500 {
		_ = wake.RecordValue(int64(5_000 + i%100*i%551*100))
		_ = cpu.RecordValue(int64(8_000 + i%7*100))
	}
	pressure, steal := 0.062, 0.004
	return &result.Runner{CPUs: 2,
		WakeupNS: result.PercentilesOf(wake), WakeupHistogram: encodeRunner(wake),
		CPUProbeNS: result.PercentilesOf(cpu), CPUProbeHistogram: encodeRunner(cpu), CPUPressure: &pressure, CPUSteal: &steal}
}

func encodeRunner(h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cacheComponent is a Redis session cache: 90% gets, 10% sets, one
// interval in which 2% of the gets stall.
func cacheComponent(t testing.TB, seed uint64, getMedian time.Duration, errorsAt int) result.ComponentResult {
	var kinds map[string]int64
	if errorsAt >= 0 {
		kinds = map[string]int64{"timeout": 3}
	}
	return makeComponent(t, seed, "session-cache", "redis://:xxxxx@cache.internal:6379/0", "redis", fixtureIntervals,
		opSpec{name: "get", perSecond: 1800, latency: withStall(logNormal(getMedian, 0.55), 12, 0.02),
			errors: func(i int) int64 {
				if i == errorsAt {
					return 3
				}
				return 0
			},
			errorKinds: kinds},
		opSpec{name: "set", perSecond: 200, latency: logNormal(700*time.Microsecond, 0.5)},
	)
}

// apiComponent is an HTTP service with two requests.
func apiComponent(t testing.TB, seed uint64) result.ComponentResult {
	return makeComponent(t, seed, "user-api", "http://users.internal:8080", "http", fixtureIntervals,
		opSpec{name: "get-user", perSecond: 150, latency: logNormal(8*time.Millisecond, 0.4)},
		opSpec{name: "search", perSecond: 50, latency: logNormal(35*time.Millisecond, 0.6)},
	)
}

// baselineResult is yesterday's run of the fail fixture's plan.
func baselineResult(t testing.TB) *result.Result {
	res := baseResult()
	res.StartedAt = fixtureStart.Add(-24 * time.Hour)
	res.Verdict = status.VerdictPass
	res.Components = []result.ComponentResult{cacheComponent(t, 7, 560*time.Microsecond, -1), apiComponent(t, 8)}
	return res
}

// failResult misses the session cache's p99 bar and regresses from base,
// the baseline result.
func failResult(t testing.TB, base *result.Result) *result.Result {
	t.Helper()
	res := baseResult()
	res.Verdict = status.VerdictFail
	res.Baseline = &result.BaselineReference{File: "baseline/result.json", StartedAt: fixtureStart.Add(-24 * time.Hour)}
	cache := cacheComponent(t, 1, 650*time.Microsecond, 12)
	cache.Objectives = []status.ObjectiveResult{
		judgeLatency(t, &cache, slo.TierMinimum, "get", slo.MetricP99, "2ms", 17),
		judgeLatency(t, &cache, slo.TierMinimum, "get", slo.MetricP999, "25ms", 17),
		// Failed by the measured value, with the bar inside its interval.
		judgeLatency(t, &cache, slo.TierMinimum, "set", slo.MetricP99, "2.2ms", 18),
		judgeErrorRate(t, &cache, "all", "0.1%", 0.001, 19),
		judgeThroughput(t, &cache, "all", "99%", 0.99, 19),
		judgeLatency(t, &cache, slo.TierAspirational, "get", slo.MetricP99, "1ms", 22),
		regression("get", "p99", "+10%", 0.10, cache.Operation("get").LatencyNS.P99,
			base.Components[0].Operation("get").LatencyNS.P99, 0.04, 0.08, 0.0004, "fail"),
	}
	sortObjectives(cache.Objectives)
	api := apiComponent(t, 2)
	api.Objectives = []status.ObjectiveResult{
		judgeLatency(t, &api, slo.TierMinimum, "get-user", slo.MetricP99, "50ms", 40),
		judgeLatency(t, &api, slo.TierMinimum, "search", slo.MetricP99, "250ms", 41),
		inconclusive(regression("search", "p99", "+10%", 0.10, api.Operation("search").LatencyNS.P99,
			base.Components[1].Operation("search").LatencyNS.P99, 0.25, 0.15, 0.41, status.Inconclusive), 0.25),
	}
	sortObjectives(api.Objectives)
	res.Components = []result.ComponentResult{cache, api}
	return res
}

// passResult meets every bar against tailgate's embedded server; one
// milestone is met, another missed.
func passResult(t testing.TB) *result.Result {
	t.Helper()
	res := baseResult()
	res.Verdict = status.VerdictPass
	cache := cacheComponent(t, 3, 300*time.Microsecond, -1)
	cache.Target = "embedded:redis"
	cache.Embedded = true
	// A prefilled cache: a few gets miss, on keys the sets had not yet written.
	get, all := cache.Operation("get"), cache.Operation("all")
	get.Hits, get.Misses = get.Count-212, 212
	all.Hits, all.Misses = get.Hits, get.Misses
	cache.Objectives = []status.ObjectiveResult{
		judgeLatency(t, &cache, slo.TierMinimum, "get", slo.MetricP99, "2ms", 17),
		judgeLatency(t, &cache, slo.TierMinimum, "set", slo.MetricP99, "3ms", 18),
		judgeErrorRate(t, &cache, "all", "0.1%", 0.001, 19),
		judgeLatency(t, &cache, slo.TierAspirational, "get", slo.MetricP99, "1.5ms", 22),
		judgeLatency(t, &cache, slo.TierAspirational, "get", slo.MetricP999, "1ms", 23),
	}
	sortObjectives(cache.Objectives)
	res.Components = []result.ComponentResult{cache}
	res.Warnings = []string{"regression objectives were not judged: no baseline given (--baseline)"}
	return res
}

// streamResult loads gRPC streaming methods: a server stream of three
// messages whose first comes at a quarter of the call's latency, and a
// bidirectional call of five messages whose first comes at half of it.
// Bars stand on both latencies.
func streamResult(t testing.TB) *result.Result {
	t.Helper()
	res := baseResult()
	res.Verdict = status.VerdictFail
	feed := makeComponent(t, 11, "feed", "grpc://feed.internal:50051", "grpc", fixtureIntervals,
		opSpec{name: "watch", perSecond: 400, latency: logNormal(4*time.Millisecond, 0.4)},
		opSpec{name: "chat", perSecond: 100, latency: logNormal(9*time.Millisecond, 0.5)},
	)
	allFirst := result.NewHistogram()
	for _, s := range []struct {
		name     string
		share    int64 // of the latency to the end, in quarters
		messages int64
	}{{"watch", 1, 3}, {"chat", 2, 5}} {
		op := feed.Operation(s.name)
		whole, err := op.WholeHistogram()
		if err != nil {
			t.Fatal(err)
		}
		first := result.NewHistogram()
		for _, b := range whole.Distribution() {
			if b.Count > 0 {
				if err := first.RecordValues(b.From*s.share/4, b.Count); err != nil {
					t.Fatal(err)
				}
			}
		}
		op.Messages = s.messages * op.Count
		op.SetFirstMessage(first)
		allFirst.Merge(first)
		feed.Operation(slo.AllOperations).Messages += op.Messages
	}
	feed.Operation(slo.AllOperations).SetFirstMessage(allFirst)
	feed.Objectives = []status.ObjectiveResult{
		judgeFirstMessage(t, &feed, slo.TierMinimum, "watch", "first_message.p99", "3ms", 17),
		judgeLatency(t, &feed, slo.TierMinimum, "watch", slo.MetricP99, "10ms", 17),
		judgeFirstMessage(t, &feed, slo.TierMinimum, "chat", "first_message.p99", "20ms", 18),
		judgeLatency(t, &feed, slo.TierAspirational, "chat", slo.MetricP99, "15ms", 22),
	}
	sortObjectives(feed.Objectives)
	res.Components = []result.ComponentResult{feed}
	return res
}

// judgeFirstMessage judges a minimum or aspirational bar on a streaming
// call's latency to its first message.
func judgeFirstMessage(t testing.TB, c *result.ComponentResult, tier slo.Tier, op string, metric slo.Metric, bar string, line int) status.ObjectiveResult {
	t.Helper()
	o := judgeLatency(t, c, tier, op, slo.MetricP99, bar, line)
	_, plain := metric.Latency()
	ns, err := c.Operation(op).FirstMessageNS.At(plain)
	if err != nil {
		t.Fatal(err)
	}
	o.Metric = string(metric)
	o.MeasuredValue = float64(ns)
	o.Measured = slo.FormatDuration(time.Duration(ns))
	o.Margin = (o.MeasuredValue - o.ThresholdValue) / o.ThresholdValue
	o.Status = status.Pass
	if o.MeasuredValue > o.ThresholdValue {
		o.Status = status.Fail
	}
	o.IntervalLow, o.IntervalHigh = 0, 0
	if q, ok := metric.Quantile(); ok {
		h, err := c.Operation(op).FirstMessages()
		if err != nil {
			t.Fatal(err)
		}
		if lo, _, hi, ok := stats.QuantileCI(h, q, 0.95); ok {
			o.IntervalLow, o.IntervalHigh = float64(lo), float64(hi)
		}
	}
	return o
}

// errorResult is a run cut short when its target went away: too few
// samples for the p99, most operations failed.
func errorResult(t testing.TB) *result.Result {
	t.Helper()
	res := baseResult()
	res.Verdict = status.VerdictError
	res.Complete = false
	res.Incomplete = "too many errors to measure: 4224 of 4624 operations failed"
	const intervals = 12
	res.MeasuredNS = intervals * fixtureInterval
	cache := makeComponent(t, 5, "session-cache", "redis://:xxxxx@10.0.0.7:6379/0", "redis", intervals,
		opSpec{name: "get", perSecond: 400, latency: logNormal(900*time.Microsecond, 0.5),
			errors: func(i int) int64 {
				if i >= 1 {
					return 384
				}
				return 0
			},
			errorKinds: map[string]int64{"connect": 4210, "timeout": 14},
		},
	)
	// Past the outage, nothing succeeded: keep the first interval's samples only.
	get := &cache.Operations[0]
	for i := 1; i < len(get.Intervals); i++ {
		get.Intervals[i].Count = 0
		get.Intervals[i].Histogram = encode(t, result.NewHistogram())
	}
	first, err := hdrhistogram.Decode([]byte(get.Intervals[0].Histogram))
	if err != nil {
		t.Fatal(err)
	}
	get.Count, get.Histogram, get.LatencyNS = first.TotalCount(), get.Intervals[0].Histogram, result.PercentilesOf(first)
	get.ErrorKinds = map[string]int64{"connect": 4210, "timeout": 14}
	get.Errors = 4224
	get.AchievedRate = float64(get.Count) / intervals
	all := &cache.Operations[1]
	all.Intervals, all.Count, all.Errors = get.Intervals, get.Count, get.Errors
	all.Histogram, all.LatencyNS, all.AchievedRate = get.Histogram, get.LatencyNS, get.AchievedRate
	// Rebuilt from one interval, the operations keep no client delay: as
	// in a result of a version that did not record it.
	for _, op := range []*result.OperationResult{get, all} {
		op.ClientDelayNS, op.ClientDelayHistogram, op.LatencyLessClientNS, op.LatencyLessClientHistogram = nil, "", nil, ""
	}
	cache.FirstErrors = map[string]result.ErrorSample{
		"connect": {Message: "dial tcp 10.0.0.7:6379: connect: connection refused", AtNS: int64(1100 * time.Millisecond)},
		"timeout": {Message: "read tcp 10.0.1.2:51944->10.0.0.7:6379: i/o timeout", AtNS: int64(1020 * time.Millisecond)},
	}
	cache.Objectives = []status.ObjectiveResult{
		judgeLatency(t, &cache, slo.TierMinimum, "get", slo.MetricP99, "2ms", 17),
		judgeErrorRate(t, &cache, "all", "0.1%", 0.001, 19),
	}
	sortObjectives(cache.Objectives)
	res.Components = []result.ComponentResult{cache}
	var detail string
	for _, o := range cache.Objectives {
		if o.Status == "insufficient" {
			detail = o.Detail
		}
	}
	res.Warnings = []string{
		`component "session-cache": get p99 could not be judged: ` + detail,
		"the run is incomplete: " + res.Incomplete,
	}
	return res
}

var fixtureCache struct {
	once     sync.Once
	results  map[string]*result.Result
	baseline *result.Result
}

// fixtures are the results every renderer is tested on, by name: built
// once, and shared, so tests must not change them (clone one first).
func fixtures(t testing.TB) map[string]*result.Result {
	fixtureCache.once.Do(func() {
		// The fail fixture is judged against the baseline, built once.
		fixtureCache.baseline = baselineResult(t)
		fixtureCache.results = map[string]*result.Result{"pass": passResult(t), "fail": failResult(t, fixtureCache.baseline), "error": errorResult(t), "stream": streamResult(t)}
	})
	return fixtureCache.results
}

// fixtureBaseline is the baseline the fail fixture was judged against.
func fixtureBaseline(t testing.TB) *result.Result {
	fixtures(t)
	return fixtureCache.baseline
}

// clone deep-copies a result through its JSON form, as a saved result
// would be read back.
func clone(t testing.TB, res *result.Result) *result.Result {
	t.Helper()
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	out, err := result.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostileResult is the error fixture with names and messages full of
// markup, control characters and terminators of every format.
func hostileResult(t testing.TB) *result.Result {
	t.Helper()
	res := clone(t, fixtures(t)["error"])
	res.Plan = "plans/<b>|`x`.yaml"
	res.Incomplete = "stopped: <script>alert(1)</script> | *boom* ]]>"
	c := &res.Components[0]
	c.Name = `cache<&>"|*_[x](y)`
	c.Target = `redis://:xxxxx@h/0?a=<b>&c="d"`
	c.FirstErrors = map[string]result.ErrorSample{
		"connect": {Message: "bad ]]> \x00\x07 <b>@team</b> | $x$ `tick`", AtNS: 1},
	}
	for i := range c.Operations {
		if c.Operations[i].Name == "get" {
			c.Operations[i].Name = "get|`x`"
		}
	}
	for i := range c.Objectives {
		if c.Objectives[i].Operation == "get" {
			c.Objectives[i].Operation = "get|`x`"
		}
		c.Objectives[i].Detail = "line one\nline two | <i>three</i>"
	}
	res.Warnings = append(res.Warnings, "# not a heading\n- not a list | <img src=x>")
	return res
}
