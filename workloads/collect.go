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
// recorded into per-interval and whole-run histograms and counts. The
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
	// clientUnsent counts the unsent errors that were the generator's
	// own doing (see idealConn.unsent).
	clientUnsent []int64
	hits         []int64
	misses       []int64
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
	// dense is the collector's: a slice's many samples pass through it on
	// their way into a packed histogram (see packInto).
	dense *hdrhistogram.Histogram
	// nodes are the records of a NodeReporter's nodes, by Op.Node − 1.
	nodes []nodeRun
	// stages are the records of each stage of a workload in stages, by
	// operation kind and stage; nil for one rate.
	stages [][]stageAgg
}

// stageAgg is the record of one operation kind in one stage.
type stageAgg struct {
	hist, client, lessClient *hdrhistogram.PackedHistogram
	errors, hits, misses     int64
}

// stagesOf gives the record room for the given number of stages.
func (r *record) stagesOf(stages int) {
	r.stages = make([][]stageAgg, len(r.whole))
	for k := range r.stages {
		r.stages[k] = make([]stageAgg, stages)
		for i := range r.stages[k] {
			agg := &r.stages[k][i]
			agg.hist, agg.client, agg.lessClient = result.NewPackedHistogram(), result.NewPackedHistogram(), result.NewPackedHistogram()
		}
	}
}

// intervalAgg is the record of one operation kind in one interval: the
// latencies of its successes, their client delays and latencies less them
// (nil until a worker recorded one: a closed-loop run records none) and
// its errors.
type intervalAgg struct {
	hist, client, lessClient *hdrhistogram.PackedHistogram
	errors                   int64
}

func newRecord(kinds int) *record {
	r := &record{
		whole:        make([]*hdrhistogram.Histogram, kinds),
		service:      make([]*hdrhistogram.Histogram, kinds),
		client:       make([]*hdrhistogram.Histogram, kinds),
		lessClient:   make([]*hdrhistogram.Histogram, kinds),
		ivals:        make([][]intervalAgg, kinds),
		errors:       make([]int64, kinds),
		late:         make([]int64, kinds),
		clientUnsent: make([]int64, kinds),
		hits:         make([]int64, kinds),
		misses:       make([]int64, kinds),
		messages:     make([]int64, kinds),
		first:        make([]*hdrhistogram.Histogram, kinds),
		kinds:        make([]map[string]int64, kinds),
		dense:        result.NewHistogram(),
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

// collect records every slice the workers hand over into its component's
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

// merge records one worker slice into the record.
func (r *record) merge(s *sliceSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range s.ops {
		o := &s.ops[k]
		n := int64(len(o.samples))
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
		iv.errors += o.errors
		r.recordSamples(k, iv, o.samples)
		r.errors[k] += o.errors
		r.late[k] += o.late
		r.clientUnsent[k] += o.clientUnsent
		r.hits[k] += o.hits
		r.misses[k] += o.misses
		r.messages[k] += o.messages
		for kind, v := range o.kinds {
			r.kinds[k][kind] += v
		}
		for st, c := range o.stages {
			agg := &r.stages[k][st]
			agg.errors += c.errors
			agg.hits += c.hits
			agg.misses += c.misses
		}
		for i := range o.nodes {
			from, into := &o.nodes[i], r.nodeOf(i+1)
			into.errors += from.errors
			for kind, v := range from.kinds {
				into.kinds = countKindBy(into.kinds, kind, v)
			}
		}
	}
}

// recordSamples records the successes of one operation kind in one slice: in
// the whole-run histograms, the interval's, their stages' and nodes'.
func (r *record) recordSamples(k int, iv *intervalAgg, samples []sample) {
	if len(samples) == 0 {
		return
	}
	withClient := false
	for i := range samples {
		sm := &samples[i]
		lat := clampNS(sm.latency)
		_ = r.whole[k].RecordValue(lat)
		_ = r.service[k].RecordValue(clampNS(sm.service))
		if sm.client >= 0 {
			withClient = true
			_ = r.client[k].RecordValue(clampNS(sm.client))
			_ = r.lessClient[k].RecordValue(clampNS(sm.latency - sm.client))
		}
		if sm.first > 0 {
			if r.first[k] == nil {
				r.first[k] = result.NewHistogram()
			}
			_ = r.first[k].RecordValue(clampNS(sm.first))
		}
		if sm.node > 0 {
			_ = r.nodeOf(int(sm.node)).latency.RecordValue(lat)
		}
	}
	latency := func(sm *sample) (int64, bool) { return clampNS(sm.latency), true }
	client := func(sm *sample) (int64, bool) { return clampNS(sm.client), sm.client >= 0 }
	lessClient := func(sm *sample) (int64, bool) { return clampNS(sm.latency - sm.client), sm.client >= 0 }
	r.packInto(iv.hist, samples, latency)
	if withClient {
		if iv.client == nil {
			iv.client, iv.lessClient = result.NewPackedHistogram(), result.NewPackedHistogram()
		}
		r.packInto(iv.client, samples, client)
		r.packInto(iv.lessClient, samples, lessClient)
	}
	if r.stages == nil {
		return
	}
	// A worker's operations are intended in order: its slice holds a run
	// of each stage it met.
	for from := 0; from < len(samples); {
		st := samples[from].stage
		to := from + 1
		for to < len(samples) && samples[to].stage == st {
			to++
		}
		if st >= 0 {
			agg := &r.stages[k][st]
			r.packInto(agg.hist, samples[from:to], latency)
			r.packInto(agg.client, samples[from:to], client)
			r.packInto(agg.lessClient, samples[from:to], lessClient)
		}
		from = to
	}
}

// denseAt is how many values a slice records into a packed histogram
// through the dense scratch rather than one by one: a value costs a packed
// histogram a search of its buckets (about 70 ns), the dense one a few
// nanoseconds, and moving the dense one's counts into the packed one a scan
// of its 270 KB (about 40 µs).
const denseAt = 512

// packInto records the values value gives of samples (those it says are
// there) into p.
func (r *record) packInto(p *hdrhistogram.PackedHistogram, samples []sample, value func(*sample) (int64, bool)) {
	if len(samples) < denseAt {
		for i := range samples {
			if v, ok := value(&samples[i]); ok {
				_ = p.RecordValue(v)
			}
		}
		return
	}
	r.dense.Reset()
	for i := range samples {
		if v, ok := value(&samples[i]); ok {
			_ = r.dense.RecordValue(v)
		}
	}
	if r.dense.TotalCount() > 0 {
		p.MergeFrom(r.dense)
	}
}

// nodeOf returns the record of node n (1-based, as Op.Node), growing the
// list when a driver names a node first seen.
func (r *record) nodeOf(n int) *nodeRun {
	for len(r.nodes) < n {
		r.nodes = append(r.nodes, nodeRun{latency: result.NewHistogram()})
	}
	return &r.nodes[n-1]
}

// countKindBy adds v errors of the given kind to kinds and returns it,
// making the map at the first.
func countKindBy(kinds map[string]int64, kind string, v int64) map[string]int64 {
	if kinds == nil {
		kinds = make(map[string]int64, 4)
	}
	kinds[kind] += v
	return kinds
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
