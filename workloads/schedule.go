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
		if s.poisson {
			at = s.offset
			s.offset += s.arrivals.ExpFloat64() / s.rate
		} else {
			at = float64(index) / s.rate
		}
		s.index++
		if index%s.shards == s.shardOf {
			s.mu.Unlock()
			return index, time.Duration(math.Round(at * 1e9))
		}
	}
}

// idealConn follows one connection as it would have run had the generator
// never been late: each operation starts at the later of its intended start
// and the ideal completion of the connection's previous operation, and takes
// its measured service time. How much later an operation was actually sent
// than that ideal start is the generator's own delay (its client delay):
// waiting for the previous reply is the target's doing and is not counted,
// while a worker that woke late, or fell behind because it did, is. The
// actual send is never before the ideal start (by induction, the ideal
// completion is never after the actual one), so the delay is never negative.
type idealConn struct {
	free  time.Time // ideal completion of the previous operation
	start time.Time // ideal start of the operation in flight
}

// send notes an operation intended at due and sent at sent, and returns its
// client delay in nanoseconds.
func (c *idealConn) send(due, sent time.Time) int64 {
	c.start = due
	if c.free.After(due) {
		c.start = c.free
	}
	return max(sent.Sub(c.start).Nanoseconds(), 0)
}

// done notes the service time of the operation sent last.
func (c *idealConn) done(service time.Duration) { c.free = c.start.Add(service) }

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
}

func newDrawer(spec *Spec) *drawer {
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
	return d
}

// draw fills op's kind and key for operation index.
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
}

// seededValue returns the value written by every write of a component:
// value_size printable bytes, fixed by the seed.
func seededValue(spec *Spec) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(componentSeed(spec.Seed, spec.Component.Name), streamValues))
	v := make([]byte, spec.Component.Workload.ValueSize)
	for i := range v {
		v[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return v
}
