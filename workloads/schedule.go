package workloads

import (
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

// Seed domains keep the random streams of one run independent of each other.
const (
	streamArrivals uint64 = 0x61727269766c7321
	streamDraws    uint64 = 0x6472617773212121
	streamValues   uint64 = 0x76616c7565732121
	streamPrefill  uint64 = 0x70726566696c6c21
)

// componentSeed mixes the run seed with the component name, so components of
// one plan do not share streams.
func componentSeed(seed int64, component string) uint64 {
	h := uint64(seed) ^ 0x9e3779b97f4a7c15
	for i := 0; i < len(component); i++ {
		h ^= uint64(component[i])
		h *= 0x100000001b3
	}
	return h
}

// schedule hands out operations of the global, seeded sequence: their index
// and intended start (offset from the run start). Operation i of a sharded run
// is shard (i mod N)+1's, so N shards together send the single-runner
// sequence. The arrival process is sequential (Poisson gaps add up), so
// next holds a short mutex; everything else about an operation is drawn from
// its index alone, outside the lock.
type schedule struct {
	mu       sync.Mutex
	index    uint64  // next global index to consider
	offset   float64 // seconds: intended start of operation index (Poisson)
	arrivals *rand.Rand
	poisson  bool
	rate     float64 // single-runner rate: the sequence every shard walks
	shardOf  uint64  // this runner's residue
	shards   uint64
	// curve is the intended count of a workload in stages, nil for one
	// rate; unit is then the next arrival of the unit-rate Poisson
	// process that curve.at maps to an intended start.
	curve *curve
	unit  float64
}

func newSchedule(spec *Spec) *schedule {
	w := &spec.Component.Workload
	s := &schedule{
		rate:    w.Rate,
		poisson: w.Arrival != slo.ArrivalUniform,
		shards:  1,
	}
	if spec.Shard.Count > 1 {
		s.shards = uint64(spec.Shard.Count)
		s.shardOf = uint64(spec.Shard.Index - 1)
	}
	seed := componentSeed(spec.Seed, spec.Component.Name)
	s.arrivals = rand.New(rand.NewPCG(seed, streamArrivals))
	if w.Stages != nil {
		s.curve = newCurve(w.Stages, spec.Warmup)
		if s.poisson {
			s.unit = s.arrivals.ExpFloat64()
		}
		return s
	}
	if s.poisson && s.rate > 0 {
		s.offset = s.arrivals.ExpFloat64() / s.rate
	}
	return s
}

// next returns this runner's next operation index and its intended start.
func (s *schedule) next() (index uint64, due time.Duration) {
	s.mu.Lock()
	for {
		index = s.index
		var at float64
		switch {
		case s.curve != nil && s.poisson:
			// A non-homogeneous Poisson process by a change of time: the
			// unit-rate process's arrival u is intended at N⁻¹(u).
			at = s.curve.at(s.unit)
			s.unit += s.arrivals.ExpFloat64()
		case s.curve != nil:
			at = s.curve.at(float64(index))
		case s.poisson:
			at = s.offset
			s.offset += s.arrivals.ExpFloat64() / s.rate
		default:
			at = float64(index) / s.rate
		}
		s.index++
		if index%s.shards == s.shardOf {
			s.mu.Unlock()
			return index, time.Duration(math.Round(at * 1e9))
		}
	}
}

// curve is the count N(t) of operations a workload in stages intends by
// t seconds from the run's start, piece by piece: warmup at the first
// stage's starting rate, then each stage, holding its rate or ramping
// linearly to it. A piece from rate r0 to r1 over D intends
// r0·τ + (r1 − r0)·τ²/(2D) operations τ into it.
type curve struct {
	pieces []piece
	// end is when the last piece ends and total what N is there; past
	// end the last rate goes on (no operation is intended there: the
	// window closes at end).
	end, total, lastRate float64
}

// piece is one part of a curve: from start for length seconds, rates r0
// to r1, with count operations intended before it.
type piece struct {
	start, length, r0, r1, count float64
}

// newCurve lays the stages out after warmup.
func newCurve(stages []slo.Stage, warmup time.Duration) *curve {
	c := &curve{}
	add := func(from, length time.Duration, r0, r1 float64) {
		if length <= 0 {
			return
		}
		p := piece{start: seconds(from), length: seconds(length), r0: r0, r1: r1, count: c.total}
		c.pieces = append(c.pieces, p)
		c.total += (r0 + r1) / 2 * p.length
		c.lastRate = r1
	}
	first := slo.StartRate(stages, 0)
	add(0, warmup, first, first)
	at := warmup
	for i, st := range stages {
		add(at, st.Duration, slo.StartRate(stages, i), st.Rate)
		at += st.Duration
	}
	c.end = seconds(at)
	return c
}

// seconds converts d exactly as stage boundaries are placed: from whole
// nanoseconds, so that an operation intended at a boundary rounds back
// onto it.
func seconds(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e9 }

// at is N⁻¹(u): when the curve has intended u operations, in seconds from
// the run's start.
func (c *curve) at(u float64) float64 {
	if u >= c.total {
		if c.lastRate <= 0 {
			return c.end + 3600
		}
		return c.end + (u-c.total)/c.lastRate
	}
	// The last piece that starts at or before count u; pieces that intend
	// nothing (rate 0) are passed over, as their count never grows.
	lo, hi := 0, len(c.pieces)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if c.pieces[mid].count <= u {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	p := c.pieces[lo]
	x := u - p.count
	if x <= 0 {
		return p.start
	}
	if p.r1 == p.r0 {
		return p.start + x/p.r0
	}
	// r0·τ + a·τ² = x with a = (r1 − r0)/(2D); this root's form stays
	// exact when r0 is 0 and does not cancel when a is small.
	a := (p.r1 - p.r0) / (2 * p.length)
	tau := 2 * x / (p.r0 + math.Sqrt(max(p.r0*p.r0+4*a*x, 0)))
	return p.start + min(tau, p.length)
}

// idealConn follows one connection as it would have run had the generator
// never been late: each operation starts at the later of its intended start
// and the ideal completion of the connection's previous operation, and takes
// its lean service time there (see leanService): its measured service time
// less the runner's recent delay in noticing replies. How much later an
// operation was actually sent than that ideal start is the generator's own
// delay (its client delay): waiting for the target's previous reply is the
// target's doing and is not counted, while a worker that woke late, or fell
// behind because it did or because it noticed replies late, is. The actual
// send is never before the ideal start (by induction, the ideal completion
// is never after the actual one), so the delay is never negative.
//
// Operations left unsent are weighed on the same timeline, which the
// connection publishes to its component's drainPool as one lane.
type idealConn struct {
	free  time.Time // ideal completion of the previous operation
	start time.Time // ideal start of the operation in flight
	lean  leanService
	// slot is the connection's lane in the drain pool, published from
	// publishFrom (the window's end) on.
	slot        timelineSlot
	publishFrom time.Time
}

// send notes an operation intended at due and sent at sent, and returns its
// client delay in nanoseconds.
func (c *idealConn) send(due, sent time.Time) int64 {
	c.start = idealStart(due, c.free)
	c.slot.sent(c.start, sent, c.publishFrom, c.lean.expected())
	return max(sent.Sub(c.start).Nanoseconds(), 0)
}

// idealStart is when a generator never late starts an operation intended
// at due on a connection free from free: the later of the two.
func idealStart(due, free time.Time) time.Time {
	if free.After(due) {
		return free
	}
	return due
}

// done notes the service time of the operation sent last, and late, the
// runner's wake-up delay when it ended (see lateness).
func (c *idealConn) done(service, late time.Duration) {
	c.free = c.start.Add(c.lean.took(service, late))
	c.slot.answered(c.free, c.lean.expected())
}

// idle publishes the connection's lane free: its worker sends no more.
func (c *idealConn) idle() { c.slot.idle(c.free, c.lean.expected()) }

// leanService is what an operation takes on a connection's ideal
// timeline (idealConn, pipelineIdeal): its service time less the runner's
// wake-up delay when it ended, the part of a service time that was tailgate
// noticing the reply late, not the target answering, when the generator is
// short of CPU throughout rather than frozen once. The runner probe's
// wake-ups wait on the same CPUs and scheduler as a reply's reader, so
// their recent mean delay (lateness) is what a reply's noticing took on
// average; it is subtracted without clamping each operation at zero, so
// that over a backlog the lean busy time is the target's own on average,
// neither the generator's nor less. Were the measured service times taken
// whole, a generator short of CPU would queue its connections on its own
// late noticing, and the queue would count as the target's: in the
// latency less the client delay, which the client-bound rule reads as what
// the target took, and in the operations left unsent. The timeline runs
// ahead of the actual connection by the generator's delays, and an unsent
// operation whose ideal start, on whichever lane of the component frees
// first (see drainPool), falls before the deadline would have been sent by
// a generator never late. Each unsent operation takes the typical lean
// service time (see took). A target too slow for the asked rate keeps the
// timeline behind as well, so what it leaves unsent stays its own.
type leanService struct {
	// typical is the mean lean service time, over the last leanMemory
	// operations or so; n counts the operations it has seen.
	typical time.Duration
	n       int
}

// leanMemory is how many operations the typical lean service time follows.
// Each lean service time is noisy (a reply noticed at once takes less than
// nothing, one left waiting across a descheduled stretch several times the
// mean), and thousands of unsent operations may each be taken to last it,
// so it is an average over many replies, not the last few: a few hundred
// span a few of the scheduler's time slices even on one connection.
const leanMemory = 256

// took is how long an operation of the measured service time takes on the
// ideal timeline, late being the runner's wake-up delay when it ended.
func (l *leanService) took(service, late time.Duration) time.Duration {
	d := service - late
	l.n++
	l.typical += (d - l.typical) / time.Duration(min(l.n, leanMemory))
	return d
}

// expected is how long an operation not yet answered, or never sent, is
// taken to last on the ideal timeline: the typical lean service time, never
// less than nothing.
func (l *leanService) expected() time.Duration { return max(l.typical, 0) }

// drawer turns an operation index into its kind and key. Each worker owns
// one; the draw depends on the index only, so any worker draws the same.
type drawer struct {
	src        *rand.PCG
	rng        *rand.Rand
	zipf       *rand.Zipf
	seed       uint64
	cumWeights []int
	total      int
	keyCount   uint64
	prefix     []byte
	key        []byte
	values     values
	// perOp is how many keys each operation kind takes (see MultiKey);
	// keys holds the buffers an operation of several keys is drawn into.
	perOp []int
	keys  [][]byte
}

func newDrawer(spec *Spec, source []byte) *drawer {
	w := &spec.Component.Workload
	d := &drawer{
		seed:     componentSeed(spec.Seed, spec.Component.Name) ^ streamDraws,
		keyCount: uint64(max(w.Keys.Count, 1)),
		prefix:   []byte(w.Keys.Prefix),
	}
	d.src = rand.NewPCG(d.seed, 0)
	d.rng = rand.New(d.src)
	if w.Keys.Distribution == slo.DistributionZipf && d.keyCount > 1 {
		s := w.Keys.ZipfS
		if s <= 1 {
			s = 1.1
		}
		d.zipf = rand.NewZipf(d.rng, s, 1, d.keyCount-1)
	}
	for _, wt := range spec.weights() {
		d.total += wt
		d.cumWeights = append(d.cumWeights, d.total)
	}
	d.key = make([]byte, 0, len(d.prefix)+20)
	d.values = newValues(spec, source, d.rng)
	return d
}

// multiKey makes the drawer draw several keys for the kinds of operation
// the driver says take them.
func (d *drawer) multiKey(driver Driver, kinds int) {
	mk, ok := driver.(MultiKey)
	if !ok {
		return
	}
	d.perOp = make([]int, kinds)
	most := 0
	for k := range d.perOp {
		d.perOp[k] = mk.KeysPerOp(k)
		most = max(most, d.perOp[k])
	}
	d.keys = make([][]byte, most)
	for i := range d.keys {
		d.keys[i] = make([]byte, 0, len(d.prefix)+20)
	}
}

// draw fills op's kind, key and value for operation index.
func (d *drawer) draw(index uint64, op *Op) {
	d.src.Seed(d.seed, index)
	op.Index = index
	op.Kind = 0
	if d.total > 0 && len(d.cumWeights) > 1 {
		pick := d.rng.IntN(d.total)
		for i, c := range d.cumWeights {
			if pick < c {
				op.Kind = i
				break
			}
		}
	}
	if d.zipf != nil {
		op.KeyIndex = d.zipf.Uint64()
	} else {
		op.KeyIndex = d.rng.Uint64N(d.keyCount)
	}
	d.key = strconv.AppendUint(append(d.key[:0], d.prefix...), op.KeyIndex, 10)
	op.Key = d.key
	op.Value = d.values.draw(d.rng)
	op.Keys = nil
	if op.Kind < len(d.perOp) && d.perOp[op.Kind] > 1 {
		// The further keys come after the kind, the first key and the value in the
		// index's stream, so they too depend on the index alone.
		n := d.perOp[op.Kind]
		d.keys[0] = append(d.keys[0][:0], d.key...)
		for i := 1; i < n; i++ {
			var index uint64
			if d.zipf != nil {
				index = d.zipf.Uint64()
			} else {
				index = d.rng.Uint64N(d.keyCount)
			}
			d.keys[i] = strconv.AppendUint(append(d.keys[i][:0], d.prefix...), index, 10)
		}
		op.Keys = d.keys[:n]
	}
}

// keyOf fills op's key and value for writing key number k, as prefill
// does: its value is drawn from a stream of its own, apart from the
// operations'.
func (d *drawer) keyOf(k uint64, op *Op) {
	d.src.Seed(d.seed^streamPrefill, k)
	op.Index, op.Kind, op.KeyIndex = k, 0, k
	d.key = strconv.AppendUint(append(d.key[:0], d.prefix...), k, 10)
	op.Key = d.key
	op.Value = d.values.draw(d.rng)
}

// valueBlock is the span over which compressibility is laid out: in each
// block of a value source, the first (1 − compressibility) share is random
// bytes and the rest one repeated byte, so that any value cut from it
// compresses about as the plan says.
const valueBlock = 64

// valueSlack is how much longer than the largest value a value source is
// (at least 4 KiB, at most 1 MiB beyond it): values are cut from it at
// seeded offsets, so that writes carry varied content without a copy.
func valueSlack(largest int) int { return max(4096, min(largest, 1<<20)) }

// valueSource returns the bytes every value of a component is cut from,
// fixed by the seed: printable letters and digits for a plain value_size
// (the content tailgate always wrote), random bytes with the plan's
// compressibility for value_size as a distribution.
func valueSource(spec *Spec) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	w := &spec.Component.Workload
	rng := rand.New(rand.NewPCG(componentSeed(spec.Seed, spec.Component.Name), streamValues))
	largest := w.ValueSize
	if w.Values != nil {
		largest = w.Values.Max
	}
	if largest == 0 {
		return nil
	}
	v := make([]byte, largest+valueSlack(largest))
	if w.Values == nil {
		for i := range v {
			v[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return v
	}
	random := int(math.Round(valueBlock * (1 - w.Values.Compressibility)))
	for i := range v {
		if i%valueBlock < random {
			v[i] = byte(rng.Uint32())
		} else {
			v[i] = 'x'
		}
	}
	return v
}

// values draws each write's value: its size from the plan's distribution
// and its content cut from the component's value source, both from the
// operation's seeded stream.
type values struct {
	source   []byte
	min, max int
	zipf     *rand.Zipf
	uniform  bool
}

func newValues(spec *Spec, source []byte, rng *rand.Rand) values {
	w := &spec.Component.Workload
	v := values{source: source, min: w.ValueSize, max: w.ValueSize}
	if vs := w.Values; vs != nil {
		v.min, v.max = vs.Min, vs.Max
		switch {
		case vs.Max <= vs.Min || vs.Distribution == slo.SizeFixed:
			v.min = vs.Max
		case vs.Distribution == slo.SizeZipf:
			v.zipf = rand.NewZipf(rng, 1.1, 1, uint64(vs.Max-vs.Min))
		default:
			v.uniform = true
		}
	}
	return v
}

// draw returns the next value of the stream rng is at.
func (v *values) draw(rng *rand.Rand) []byte {
	if len(v.source) == 0 {
		return nil
	}
	size := v.min
	switch {
	case v.zipf != nil:
		size += int(v.zipf.Uint64())
	case v.uniform:
		size += rng.IntN(v.max - v.min + 1)
	}
	off := rng.IntN(len(v.source) - v.max + 1)
	return v.source[off : off+size : off+size]
}
