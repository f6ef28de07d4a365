package workloads

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// opSlice is one worker's record of one operation kind for one interval.
type opSlice struct {
	latency *hdrhistogram.Histogram // completion − intended start
	// client (send − ideal start: the generator's own delay) is the
	// slice's own, like latency: a window of the run is judged on the
	// generator's delay within it, so it is kept per interval.
	client *hdrhistogram.Histogram
	// service (completion − actual send) is the worker's histogram for the
	// whole run, shared by all its slices: service time is only reported
	// for the whole run, so it is merged once, when the worker is done,
	// rather than at every interval. lessClient (latency less the client
	// delay) is a whole-run histogram shared like service.
	service    *hdrhistogram.Histogram
	lessClient *hdrhistogram.Histogram
	errors     int64
	late       int64
	// hits and misses count what measured reads found (see Op.Hits);
	// messages what measured streaming calls received (see Op.Messages).
	hits, misses, messages int64
	kinds                  map[string]int64 // errors by kind; nil until the first error
	// warmupOps and warmupErrors count operations intended before the
	// measured window: applied, not measured.
	warmupOps    int64
	warmupErrors int64
}

// sliceSet is one worker's record of every operation kind for one interval.
type sliceSet struct {
	// owner is the worker the slice goes back to once collected.
	owner    *worker
	interval int // index from the measured window's start; negative in warmup
	ops      []opSlice
}

// wholeRun is one worker's whole-run histograms of one operation kind:
// service time and latency less the generator's own delay are only
// reported for the whole run, so they are merged once, when the worker is
// done.
type wholeRun struct {
	service, lessClient *hdrhistogram.Histogram
	// first holds a streaming call's latencies to its first message; nil
	// until the first one, so operations that do not stream carry none.
	first *hdrhistogram.Histogram
}

// recordFirst notes one streaming call's latency to its first message.
// Only the first call allocates, once per worker and operation.
func (w *wholeRun) recordFirst(latencyNS time.Duration) {
	if w.first == nil {
		w.first = result.NewHistogram()
	}
	_ = w.first.RecordValue(clampNS(latencyNS.Nanoseconds()))
}

func newWholeRun() wholeRun {
	return wholeRun{service: result.NewHistogram(), lessClient: result.NewHistogram()}
}

// newSliceSet returns a slice set with whole-run histograms of its own.
func newSliceSet(kinds int) *sliceSet {
	whole := make([]wholeRun, kinds)
	for i := range whole {
		whole[i] = newWholeRun()
	}
	return newWorkerSliceSet(whole)
}

// newWorkerSliceSet returns a slice set with interval histograms of its own
// that records into the worker's whole-run histograms, one set per
// operation kind.
func newWorkerSliceSet(whole []wholeRun) *sliceSet {
	s := &sliceSet{ops: make([]opSlice, len(whole))}
	for i := range s.ops {
		s.ops[i].latency = result.NewHistogram()
		s.ops[i].client = result.NewHistogram()
		s.ops[i].service = whole[i].service
		s.ops[i].lessClient = whole[i].lessClient
	}
	return s
}

// reset empties the slice for another interval; the shared whole-run
// histograms keep their counts.
func (s *sliceSet) reset() {
	for i := range s.ops {
		o := &s.ops[i]
		o.latency.Reset()
		o.client.Reset()
		o.errors, o.late, o.warmupOps, o.warmupErrors, o.hits, o.misses, o.messages = 0, 0, 0, 0, 0, 0, 0
		clear(o.kinds)
	}
}

func (s *sliceSet) empty() bool {
	for i := range s.ops {
		o := &s.ops[i]
		if o.latency.TotalCount() > 0 || o.errors > 0 || o.warmupOps > 0 || o.warmupErrors > 0 {
			return false
		}
	}
	return true
}

// clampNS keeps a value inside the histogram's range, so recording never fails.
func clampNS(v int64) int64 {
	if v < result.HistogramLowest {
		return result.HistogramLowest
	}
	if v > result.HistogramHighest {
		return result.HistogramHighest
	}
	return v
}

// record notes one measured success: its latency (from the intended
// start), service time (from the send) and the generator's own delay
// (clientNS, negative when the run has no intended starts). It neither
// allocates nor locks.
func (o *opSlice) record(latencyNS, serviceNS, clientNS int64, late bool) {
	_ = o.latency.RecordValue(clampNS(latencyNS))
	_ = o.service.RecordValue(clampNS(serviceNS))
	if clientNS >= 0 {
		_ = o.client.RecordValue(clampNS(clientNS))
		_ = o.lessClient.RecordValue(clampNS(latencyNS - clientNS))
	}
	if late {
		o.late++
	}
}

// fail notes one measured error of the given kind.
func (o *opSlice) fail(kind string) {
	o.errors++
	o.kinds = countKind(o.kinds, kind)
}

// countKind adds one error of the given kind to kinds and returns it,
// making the map at the first error.
func countKind(kinds map[string]int64, kind string) map[string]int64 {
	if kinds == nil {
		kinds = make(map[string]int64, 4)
	}
	kinds[kind]++
	return kinds
}

// nodeRun is one worker's whole-run record of one node of a NodeReporter
// (see Op.Node): the latency of every measured success, from its intended
// start, and the measured failures by kind.
type nodeRun struct {
	latency *hdrhistogram.Histogram
	errors  int64
	kinds   map[string]int64 // nil until the first error
}

// nodeOf returns the worker's record of node n (1-based, as Op.Node),
// growing the list when the driver names a node first seen: an
// allocation once per node and worker, never per operation.
func (w *worker) nodeOf(n int) *nodeRun {
	for len(w.nodes) < n {
		w.nodes = append(w.nodes, nodeRun{latency: result.NewHistogram()})
	}
	return &w.nodes[n-1]
}

// nodeSuccess notes a measured success on node n (0: no node).
func (w *worker) nodeSuccess(n int, latencyNS int64) {
	if n > 0 {
		_ = w.nodeOf(n).latency.RecordValue(clampNS(latencyNS))
	}
}

// nodeFailure notes a measured failure of the given kind on node n (0: no
// node).
func (w *worker) nodeFailure(n int, kind string) {
	if n <= 0 {
		return
	}
	nr := w.nodeOf(n)
	nr.errors++
	nr.kinds = countKind(nr.kinds, kind)
}

// stageRun is a worker's record of one operation kind in the stage it is
// in: the latency of every measured success intended in the stage, from
// its intended start, and the measured failures.
type stageRun struct {
	latency *hdrhistogram.Histogram
	// client holds the successes' client delays (a workload in stages is
	// open loop, so every success has one).
	client               *hdrhistogram.Histogram
	errors, hits, misses int64
}

// stageTrack is a worker's record of the stage of a workload in stages it
// is in. A worker's operations are intended in order, so it moves from
// stage to stage and hands each one's record to the component's when it
// leaves it: once per stage and worker, never per operation.
type stageTrack struct {
	cur int        // the stage recorded, 0-based
	ops []stageRun // by operation kind; nil for a workload of one rate
}

// stageAt returns the worker's record of the stage an operation intended
// at due (in the measured window) belongs to, nil for a workload of one
// rate.
func (w *worker) stageAt(due time.Time) []stageRun {
	st := &w.stage
	if st.ops == nil {
		return nil
	}
	win := &w.comp.win
	if due.Before(win.stageStart(st.cur)) || !due.Before(win.stageEnds[st.cur]) {
		w.comp.rec.mergeStage(st)
		st.cur = win.stageOf(due)
	}
	return st.ops
}

// stageSuccess notes a measured success intended at due in its stage, with
// its client delay (clientNS, negative in a closed-loop run).
func (w *worker) stageSuccess(due time.Time, kind int, latencyNS, clientNS int64, hits, misses int32) {
	if ops := w.stageAt(due); ops != nil {
		s := &ops[kind]
		_ = s.latency.RecordValue(clampNS(latencyNS))
		if clientNS >= 0 {
			_ = s.client.RecordValue(clampNS(clientNS))
		}
		s.hits += int64(hits)
		s.misses += int64(misses)
	}
}

// stageFailure notes a measured failure intended at due in its stage.
func (w *worker) stageFailure(due time.Time, kind int) {
	if ops := w.stageAt(due); ops != nil {
		ops[kind].errors++
	}
}
