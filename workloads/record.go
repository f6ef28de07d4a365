package workloads

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// sample is one measured success as a worker notes it: the worker only
// appends it to its slice, and the collector records it in the component's
// histograms (see record.merge). A worker holds no histogram of its own,
// so a run's memory grows with the operations of an interval, not with its
// connections: a dense histogram of tailgate's range is 270 KB, and a run
// may have thousands of connections each sending a few operations a
// second.
type sample struct {
	latency int64 // completion − intended start
	service int64 // completion − actual send
	// client is the generator's own delay (send − ideal start), negative
	// in a closed-loop run, which has no intended starts.
	client int64
	// first is a streaming call's latency to its first message; 0 for an
	// operation that does not stream.
	first int64
	node  int32 // Op.Node: the server that answered, 0 for none
	stage int32 // the stage the operation was intended in, −1 for one rate
}

// opSlice is one worker's record of one operation kind for one interval.
type opSlice struct {
	samples []sample // the measured successes
	errors  int64
	late    int64
	// clientUnsent counts the unsent errors a generator never late would
	// have sent (see idealConn.unsent).
	clientUnsent int64
	// hits and misses count what measured reads found (see Op.Hits);
	// messages what measured streaming calls received (see Op.Messages).
	hits, misses, messages int64
	kinds                  map[string]int64 // errors by kind; nil until the first error
	// warmupOps and warmupErrors count operations intended before the
	// measured window: applied, not measured.
	warmupOps    int64
	warmupErrors int64
	// stages counts the slice's measured failures, hits and misses by the
	// stage they were intended in (a workload in stages); grown to the
	// highest stage met.
	stages []stageTally
	// nodes counts its measured failures by node (Op.Node − 1); grown to
	// the highest node met.
	nodes []nodeTally
}

// stageTally is what a stage's record counts besides its latencies.
type stageTally struct {
	errors, hits, misses int64
}

// nodeTally is a node's measured failures, by kind.
type nodeTally struct {
	errors int64
	kinds  map[string]int64 // nil until the first error
}

// sliceSet is one worker's record of every operation kind for one interval.
type sliceSet struct {
	// owner is the worker the slice goes back to once collected.
	owner    *worker
	interval int // index from the measured window's start; negative in warmup
	ops      []opSlice
}

// newSliceSet returns an empty slice set for the given number of operation
// kinds.
func newSliceSet(kinds int) *sliceSet {
	return &sliceSet{ops: make([]opSlice, kinds)}
}

// reset empties the slice for another interval, keeping the room it grew.
func (s *sliceSet) reset() {
	for i := range s.ops {
		o := &s.ops[i]
		o.samples = o.samples[:0]
		o.errors, o.late, o.clientUnsent, o.warmupOps, o.warmupErrors, o.hits, o.misses, o.messages = 0, 0, 0, 0, 0, 0, 0, 0
		clear(o.kinds)
		clear(o.stages)
		for n := range o.nodes {
			o.nodes[n].errors = 0
			clear(o.nodes[n].kinds)
		}
	}
}

func (s *sliceSet) empty() bool {
	for i := range s.ops {
		o := &s.ops[i]
		if len(o.samples) > 0 || o.errors > 0 || o.warmupOps > 0 || o.warmupErrors > 0 {
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

// record notes one measured success, and its hits and misses. It neither
// locks nor, once the slice has grown to an interval's operations,
// allocates.
func (o *opSlice) record(sm sample, late bool, hits, misses int32) {
	o.samples = append(o.samples, sm)
	if late {
		o.late++
	}
	o.hits += int64(hits)
	o.misses += int64(misses)
	if c := o.tallyOf(sm.stage); c != nil {
		c.hits += int64(hits)
		c.misses += int64(misses)
	}
}

// fail notes one measured error of the given kind, on node (0 for none),
// intended in stage (−1 for one rate).
func (o *opSlice) fail(kind string, node, stage int32) {
	o.errors++
	o.kinds = countKind(o.kinds, kind)
	if node > 0 {
		for len(o.nodes) < int(node) {
			o.nodes = append(o.nodes, nodeTally{})
		}
		n := &o.nodes[node-1]
		n.errors++
		n.kinds = countKind(n.kinds, kind)
	}
	if c := o.tallyOf(stage); c != nil {
		c.errors++
	}
}

// unsent notes one measured operation never sent before the window closed,
// intended in stage; own when a generator never late would have sent it.
func (o *opSlice) unsent(own bool, stage int32) {
	o.fail(KindUnsent, 0, stage)
	if own {
		o.clientUnsent++
	}
}

// tallyOf is the slice's counts of stage st, nil for −1 (one rate).
func (o *opSlice) tallyOf(st int32) *stageTally {
	if st < 0 {
		return nil
	}
	for len(o.stages) <= int(st) {
		o.stages = append(o.stages, stageTally{})
	}
	return &o.stages[st]
}

// countKind adds one error of the given kind to kinds and returns it,
// making the map at the first error.
func countKind(kinds map[string]int64, kind string) map[string]int64 {
	return countKindBy(kinds, kind, 1)
}

// nodeRun is the component's record of one node of a NodeReporter (see
// Op.Node): the latency of every measured success, from its intended
// start, and the measured failures by kind.
type nodeRun struct {
	latency *hdrhistogram.Histogram
	errors  int64
	kinds   map[string]int64 // nil until the first error
}

// stageOf is the index of the stage an operation intended at due belongs
// to, −1 for a workload of one rate. A worker's operations are intended in
// order, so it remembers the stage it is in and looks again only when due
// leaves it.
func (w *worker) stageOf(due time.Time) int32 {
	if w.comp.rec.stages == nil {
		return -1
	}
	win := &w.comp.win
	if due.Before(win.stageStart(w.stage)) || !due.Before(win.stageEnds[w.stage]) {
		w.stage = win.stageOf(due)
	}
	return int32(w.stage)
}
