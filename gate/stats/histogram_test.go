package stats

import (
	"math/rand/v2"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestSparseBucketsMatchHdrHistogram(t *testing.T) {
	geometries := []struct {
		name                 string
		lowest, highest      int64
		digits               int64
		maxValue             float64
		fromSnapshotNoDigits bool
	}{
		{name: "the runner's nanosecond histogram", lowest: 1, highest: 3600e9, digits: 3, maxValue: 1e10},
		{name: "microsecond units with 2 digits", lowest: 1000, highest: 1e12, digits: 2, maxValue: 1e11},
		{name: "a lowest value that is not a power of two", lowest: 7, highest: 1e8, digits: 1, maxValue: 1e8},
		{name: "4 significant digits", lowest: 1, highest: 1e6, digits: 4, maxValue: 1e6},
		{name: "values up to the top of a wide range", lowest: 1, highest: 1 << 62, digits: 2, maxValue: 1 << 62},
		{name: "a decoded histogram with 0 significant digits", lowest: 1, highest: 1e9, digits: 0, maxValue: 1e9, fromSnapshotNoDigits: true},
	}
	for _, g := range geometries {
		t.Run(g.name, func(t *testing.T) {
			h := hdrhistogram.New(g.lowest, g.highest, int(g.digits))
			if g.fromSnapshotNoDigits {
				snap := h.Export()
				snap.SignificantFigures = 0
				h = hdrhistogram.Import(snap)
				if h.SignificantFigures() != 0 {
					t.Fatalf("imported histogram has %d digits, want 0", h.SignificantFigures())
				}
			}
			rng := rand.New(rand.NewPCG(1, uint64(g.lowest)))
			for range 5000 {
				if err := h.RecordValue(int64(rng.Float64() * rng.Float64() * g.maxValue)); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.RecordValues(0, 3); err != nil {
				t.Fatal(err)
			}
			want := distributionBuckets(h)
			enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			packed, err := hdrhistogram.DecodePacked(enc)
			if err != nil {
				t.Fatal(err)
			}
			// A result's intervals are read packed, the whole run dense:
			// both must give the buckets HdrHistogram itself gives.
			for form, got := range map[string]sparse{"dense": readSparse(h), "packed": readSparse(packed)} {
				if got.total != h.TotalCount() {
					t.Errorf("%s: total = %d, want %d", form, got.total, h.TotalCount())
				}
				if got.lowest != h.LowestTrackableValue() || got.digits != h.SignificantFigures() {
					t.Errorf("%s: geometry (%d, %d digits), want (%d, %d digits)", form, got.lowest, got.digits, h.LowestTrackableValue(), h.SignificantFigures())
				}
				if len(got.buckets) != len(want) {
					t.Fatalf("%s: %d buckets, want %d", form, len(got.buckets), len(want))
				}
				for i, b := range got.buckets {
					if b.lo != want[i].Lo || b.hi != want[i].Hi || b.count != want[i].Count {
						t.Fatalf("%s: bucket %d = [%d, %d] x%d, want [%d, %d] x%d", form, i, b.lo, b.hi, b.count, want[i].Lo, want[i].Hi, want[i].Count)
					}
				}
			}
		})
	}
}

// distributionBuckets is what HdrHistogram itself says h holds: the bars of
// its Distribution that have a count.
func distributionBuckets(h *hdrhistogram.Histogram) []Bucket {
	var out []Bucket
	for _, bar := range h.Distribution() {
		if bar.Count > 0 {
			out = append(out, Bucket{Lo: bar.From, Hi: bar.To, Count: bar.Count})
		}
	}
	return out
}

func TestBucketsAreTheDistributionsBarsWithACount(t *testing.T) {
	if b := Buckets[*hdrhistogram.Histogram](nil); len(b) != 0 {
		t.Errorf("a nil histogram has buckets %v", b)
	}
	h := newRunnerHistogram()
	if b := Buckets(h); len(b) != 0 {
		t.Errorf("an empty histogram has buckets %v", b)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		if err := h.RecordValue(int64(rng.Float64() * rng.Float64() * 1e10)); err != nil {
			t.Fatal(err)
		}
	}
	want, got := distributionBuckets(h), Buckets(h)
	if !slices.Equal(got, want) {
		t.Fatalf("%d buckets, want %d: %v, want %v", len(got), len(want), got, want)
	}
	if got[0].Lo != h.Min() || got[len(got)-1].Hi != h.Max() {
		t.Errorf("buckets span [%d, %d], want Min %d and Max %d", got[0].Lo, got[len(got)-1].Hi, h.Min(), h.Max())
	}
}

func TestValueAtRank(t *testing.T) {
	h := newRunnerHistogram()
	for _, v := range []int64{1, 2, 2, 3, 1000, 5000} {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		rank int64
		want int64
	}{
		{"rank 1 is the smallest value", 1, 1},
		{"tied values share their ranks", 2, 2},
		{"the second of tied values", 3, 2},
		{"a value within unit resolution is exact", 5, 1000},
		{"a value beyond unit resolution reads as its highest equivalent", 6, 5003},
		{"a rank below 1 reads as rank 1", -4, 1},
		{"a rank beyond the count reads as the largest value", 99, 5003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValueAtRank(h, tt.rank); got != tt.want {
				t.Errorf("ValueAtRank(h, %d) = %d, want %d", tt.rank, got, tt.want)
			}
		})
	}
	t.Run("an empty histogram reads as 0", func(t *testing.T) {
		if got := ValueAtRank(newRunnerHistogram(), 1); got != 0 {
			t.Errorf("got %d, want 0", got)
		}
	})
	t.Run("a nil histogram reads as 0", func(t *testing.T) {
		if got := ValueAtRank(nil, 1); got != 0 {
			t.Errorf("got %d, want 0", got)
		}
	})
}

func TestValueAtRankAgreesWithValueAtQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	h := sample(t, rng, logNormal{median: 2e6, sigma: 1}, 10_000, newRunnerHistogram())
	n := h.TotalCount()
	for _, rank := range []int64{1, 2, 17, 5000, 9900, 9990, 9999, n} {
		// HdrHistogram reads percentile p at rank round(p/100*n).
		want := h.ValueAtQuantile(100 * float64(rank) / float64(n))
		if got := ValueAtRank(h, rank); got != want {
			t.Errorf("ValueAtRank(h, %d) = %d, ValueAtQuantile = %d", rank, got, want)
		}
	}
}

func TestQuantileRank(t *testing.T) {
	tests := []struct {
		name string
		q    float64
		n    int64
		want int64
	}{
		{"the median of an odd count is the middle value", 0.5, 5, 3},
		{"the median of an even count is the lower middle value", 0.5, 4, 2},
		{"p99 of 100 is the 99th value", 0.99, 100, 99},
		{"p99 of 101 rounds up", 0.99, 101, 100},
		{"rounding error above an integer does not add a rank", 0.07, 100, 7},
		{"rounding error below an integer does not lose one", 0.29, 100, 29},
		{"a tiny quantile is at least rank 1", 1e-9, 10, 1},
		{"p99.99 of a million", 0.9999, 1_000_000, 999_900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantileRank(tt.q, tt.n); got != tt.want {
				t.Errorf("quantileRank(%v, %d) = %d, want %d", tt.q, tt.n, got, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	parts := run(t, rng, exponential{mean: 1e6}, 300, 5, 1)
	want := newRunnerHistogram()
	var read []sparse
	for _, p := range parts {
		if dropped := want.Merge(p); dropped != 0 {
			t.Fatalf("Merge dropped %d", dropped)
		}
		read = append(read, sparseOf(p))
	}
	t.Run("one geometry merges like HdrHistogram's Merge", func(t *testing.T) {
		got, expect := merge(read), sparseOf(want)
		if got.total != expect.total || len(got.buckets) != len(expect.buckets) {
			t.Fatalf("merged %d samples in %d buckets, want %d in %d", got.total, len(got.buckets), expect.total, len(expect.buckets))
		}
		for i := range got.buckets {
			if got.buckets[i] != expect.buckets[i] {
				t.Fatalf("bucket %d = %+v, want %+v", i, got.buckets[i], expect.buckets[i])
			}
		}
	})
	t.Run("mixed geometries keep every sample in value order", func(t *testing.T) {
		coarse := hdrhistogram.New(1000, 3600e9, 2)
		for range 500 {
			if err := coarse.RecordValue(int64(exponential{mean: 1e6}.draw(rng))); err != nil {
				t.Fatal(err)
			}
		}
		got := merge(append([]sparse{sparseOf(coarse)}, read...))
		if got.total != want.TotalCount()+coarse.TotalCount() {
			t.Errorf("total = %d, want %d", got.total, want.TotalCount()+coarse.TotalCount())
		}
		for i := 1; i < len(got.buckets); i++ {
			if compareBuckets(got.buckets[i-1], got.buckets[i]) >= 0 {
				t.Fatalf("buckets %d and %d out of order: %+v, %+v", i-1, i, got.buckets[i-1], got.buckets[i])
			}
		}
		again := merge([]sparse{got, sparseOf(want)})
		if again.total != got.total+want.TotalCount() {
			t.Errorf("merging a mixed merge again: total = %d, want %d", again.total, got.total+want.TotalCount())
		}
	})
}
