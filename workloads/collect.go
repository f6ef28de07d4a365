package workloads

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// record is one component's collected record: its workers' interval slices
// merged into per-interval and whole-run histograms and counts. The
// collector writes it, the monitor reads it while load runs, and the result
// is built from it once the workers are done.
type record struct {
	mu         sync.Mutex
	whole      []*hdrhistogram.Histogram // latency from the intended start
	service    []*hdrhistogram.Histogram
	client     []*hdrhistogram.Histogram
	lessClient []*hdrhistogram.Histogram
	ivals      [][]intervalAgg
	errors     []int64
	late       []int64
	hits       []int64
	misses     []int64
	// messages and first are streaming calls' (see Op.Messages); an
	// operation's first stays nil until a worker recorded one.
	messages []int64
	first    []*hdrhistogram.Histogram
	kinds    []map[string]int64
	// warmupOps and warmupErrors count operations intended before the
	// measured window; seenOps and seenErrors count every completed or
	// failed operation, warmup included, for the abort monitor.
	warmupOps, warmupErrors int64
	seenOps, seenErrors     int64
	// scratch is the collector's: a worker's interval slice passes through
	// it on its way into the whole-run histogram (see merge).
	scratch *hdrhistogram.PackedHistogram
	// nodes are the workers' records of a NodeReporter's nodes, by
	// Op.Node − 1, merged once the workers are done.
	nodes []nodeRun
	// stages are the workers' records of each stage of a workload in
	// stages, by operation kind and stage; nil for one rate.
	stages [][]stageAgg
}

// stageAgg is the record of one operation kind in one stage.
type stageAgg struct {
	hist, client         *hdrhistogram.PackedHistogram
	errors, hits, misses int64
}

// stagesOf gives the record room for the given number of stages.
func (r *record) stagesOf(stages int) {
	r.stages = make([][]stageAgg, len(r.whole))
	for k := range r.stages {
		r.stages[k] = make([]stageAgg, stages)
		for i := range r.stages[k] {
			r.stages[k][i].hist, r.stages[k][i].client = result.NewPackedHistogram(), result.NewPackedHistogram()
		}
	}
}

// mergeStage folds a worker's record of the stage it is in into the
// record, and empties it.
func (r *record) mergeStage(st *stageTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range st.ops {
		from, into := &st.ops[k], &r.stages[k][st.cur]
		if from.latency.TotalCount() > 0 {
			into.hist.MergeFrom(from.latency)
			from.latency.Reset()
		}
		if from.client.TotalCount() > 0 {
			into.client.MergeFrom(from.client)
			from.client.Reset()
		}
		into.errors += from.errors
		into.hits += from.hits
		into.misses += from.misses
		from.errors, from.hits, from.misses = 0, 0, 0
	}
}

// intervalAgg is the record of one operation kind in one interval: the
// latencies of its successes, their client delays (nil until a worker
// recorded one: a closed-loop run records none) and its errors.
type intervalAgg struct {
	hist, client *hdrhistogram.PackedHistogram
	errors       int64
}

func newRecord(kinds int) *record {
	r := &record{
		whole:      make([]*hdrhistogram.Histogram, kinds),
		service:    make([]*hdrhistogram.Histogram, kinds),
		client:     make([]*hdrhistogram.Histogram, kinds),
		lessClient: make([]*hdrhistogram.Histogram, kinds),
		ivals:      make([][]intervalAgg, kinds),
		errors:     make([]int64, kinds),
		late:       make([]int64, kinds),
		hits:       make([]int64, kinds),
		misses:     make([]int64, kinds),
		messages:   make([]int64, kinds),
		first:      make([]*hdrhistogram.Histogram, kinds),
		kinds:      make([]map[string]int64, kinds),
		scratch:    result.NewPackedHistogram(),
	}
	for k := range kinds {
		r.whole[k] = result.NewHistogram()
		r.service[k] = result.NewHistogram()
		r.client[k] = result.NewHistogram()
		r.lessClient[k] = result.NewHistogram()
		r.kinds[k] = map[string]int64{}
	}
	return r
}

// collect merges every slice the workers hand over into its component's
// record and gives the emptied slice back to its worker, until in closes.
func collect(in <-chan *sliceSet) {
	for s := range in {
		s.owner.comp.rec.merge(s)
		s.reset()
		select {
		case s.owner.free <- s:
		default:
		}
	}
}

// merge folds one worker slice into the record.
func (r *record) merge(s *sliceSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range s.ops {
		o := &s.ops[k]
		n := o.latency.TotalCount()
		r.warmupOps += o.warmupOps
		r.warmupErrors += o.warmupErrors
		r.seenOps += o.warmupOps + n + o.errors
		r.seenErrors += o.warmupErrors + o.errors
		if s.interval < 0 || (n == 0 && o.errors == 0) {
			continue
		}
		for len(r.ivals[k]) <= s.interval {
			r.ivals[k] = append(r.ivals[k], intervalAgg{hist: result.NewPackedHistogram()})
		}
		iv := &r.ivals[k][s.interval]
		iv.hist.MergeFrom(o.latency)
		iv.errors += o.errors
		// Dense into dense goes through an iterator over every bucket;
		// a scan into the sparse scratch and its buckets into the dense
		// whole-run histogram cost a third of that, with the same counts.
		r.scratch.Reset()
		r.scratch.MergeFrom(o.latency)
		r.scratch.MergeInto(r.whole[k])
		if o.client.TotalCount() > 0 {
			// One scan of the slice's dense histogram serves both the
			// interval's packed aggregate and the whole-run histogram.
			if iv.client == nil {
				iv.client = result.NewPackedHistogram()
			}
			r.scratch.Reset()
			r.scratch.MergeFrom(o.client)
			iv.client.Merge(r.scratch)
			r.scratch.MergeInto(r.client[k])
		}
		r.errors[k] += o.errors
		r.late[k] += o.late
		r.hits[k] += o.hits
		r.misses[k] += o.misses
		r.messages[k] += o.messages
		for kind, v := range o.kinds {
			r.kinds[k][kind] += v
		}
	}
}

// mergeWhole folds workers' whole-run histograms (and the stage each is
// in) into the record, once the workers are done.
func (r *record) mergeWhole(workers []*worker) {
	for _, w := range workers {
		if w.stage.ops != nil {
			r.mergeStage(&w.stage)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range workers {
		for k, h := range w.whole {
			for _, m := range [...]struct{ from, into *hdrhistogram.Histogram }{
				{h.service, r.service[k]}, {h.lessClient, r.lessClient[k]},
			} {
				r.scratch.Reset()
				r.scratch.MergeFrom(m.from)
				r.scratch.MergeInto(m.into)
			}
			if h.first != nil {
				if r.first[k] == nil {
					r.first[k] = result.NewHistogram()
				}
				r.scratch.Reset()
				r.scratch.MergeFrom(h.first)
				r.scratch.MergeInto(r.first[k])
			}
		}
		for i := range w.nodes {
			for len(r.nodes) <= i {
				r.nodes = append(r.nodes, nodeRun{latency: result.NewHistogram()})
			}
			from, into := &w.nodes[i], &r.nodes[i]
			r.scratch.Reset()
			r.scratch.MergeFrom(from.latency)
			r.scratch.MergeInto(into.latency)
			into.errors += from.errors
			for kind, v := range from.kinds {
				if into.kinds == nil {
					into.kinds = map[string]int64{}
				}
				into.kinds[kind] += v
			}
		}
	}
}

// seen is how many operations a component completed or failed so far,
// warmup included, and how many of them failed.
type seen struct{ ops, errs int64 }

// snapshot is the record's progress so far, with the p99 of all operations
// computed in all (reset first), and what it has seen.
func (r *record) snapshot(name string, ops []string, all *hdrhistogram.Histogram) (ComponentProgress, seen) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := ComponentProgress{Name: name}
	all.Reset()
	for k, op := range ops {
		cp.Operations += r.whole[k].TotalCount()
		cp.Errors += r.errors[k]
		all.Merge(r.whole[k])
		cp.Ops = append(cp.Ops, OperationProgress{Name: op, Count: r.whole[k].TotalCount(),
			Errors: r.errors[k], ErrorKinds: maps.Clone(r.kinds[k]), Latency: r.whole[k].Clone()})
	}
	cp.P99 = time.Duration(all.ValueAtQuantile(99))
	return cp, seen{r.seenOps, r.seenErrors}
}

// seenSoFar is what the record has seen, for an abort check between
// progress reports.
func (r *record) seenSoFar() seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return seen{r.seenOps, r.seenErrors}
}

// errorLog keeps the first message of each error kind a component met, for
// reports and abort messages; workers write it, so it has its own lock.
type errorLog struct {
	mu      sync.Mutex
	first   map[string]result.ErrorSample
	secrets []string
}

// note keeps msg, redacted, if it is the first of its kind; at is its time
// from the measured window's start.
func (l *errorLog) note(kind, msg string, at time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.first[kind]; !seen {
		if l.first == nil {
			l.first = map[string]result.ErrorSample{}
		}
		l.first[kind] = result.ErrorSample{Message: Redact(msg, l.secrets), AtNS: at.Nanoseconds()}
	}
}

// samples returns the first errors by kind, nil when there were none.
func (l *errorLog) samples() map[string]result.ErrorSample {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.first) == 0 {
		return nil
	}
	return maps.Clone(l.first)
}

// summary lists the first error of each kind, in the order of the kinds'
// names, so that one run's message is the same every time.
func (l *errorLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.first) == 0 {
		return "no error message recorded"
	}
	parts := make([]string, 0, len(l.first))
	for _, kind := range slices.Sorted(maps.Keys(l.first)) {
		parts = append(parts, kind+": "+l.first[kind].Message)
	}
	return strings.Join(parts, "; ")
}
