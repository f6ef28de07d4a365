package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// TestHLogRoundTrip reads the interval log back with hdrhistogram-go's own
// reader: every operation's every interval comes back under its tag, with
// the same counts and times.
func TestHLogRoundTrip(t *testing.T) {
	cases := map[string]*result.Result{}
	for name, res := range fixtures(t) {
		cases[name] = res
	}
	// A window that starts within a second exercises the whole-second base.
	offbeat := clone(t, fixtures(t)["pass"])
	offbeat.StartedAt = offbeat.StartedAt.Add(345 * time.Millisecond)
	offbeat.WarmupNS += int64(500 * time.Millisecond)
	cases["sub-second start"] = offbeat
	for name, res := range cases {
		t.Run(name+" result reads back intact", func(t *testing.T) {
			var buf bytes.Buffer
			if err := HLog(&buf, res); err != nil {
				t.Fatal(err)
			}
			text := buf.String()
			for _, header := range []string{"#[Histogram log format version 1.3]", "#[StartTime: ", "#[BaseTime: ", `"StartTimestamp"`} {
				if !strings.Contains(text, header) {
					t.Errorf("log lacks the %q header", header)
				}
			}

			read := map[string][]*hdrhistogram.Histogram{}
			reader := hdrhistogram.NewHistogramLogReader(&buf)
			for {
				h, err := reader.NextIntervalHistogram()
				if err != nil {
					t.Fatal(err)
				}
				if h == nil {
					break
				}
				read[h.Tag()] = append(read[h.Tag()], h)
			}

			windowStart := res.StartedAt.UnixMilli() + res.WarmupNS/1e6
			tags := 0
			for ci := range res.Components {
				c := &res.Components[ci]
				for oi := range c.Operations {
					op := &c.Operations[oi]
					tag := HLogTag(c.Name, op.Name)
					tags++
					got := read[tag]
					want, err := op.IntervalHistograms()
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want) {
						t.Fatalf("tag %q: %d intervals read back, the result has %d", tag, len(got), len(want))
					}
					var total int64
					for i := range want {
						dense := result.NewHistogram()
						want[i].MergeInto(dense)
						if !got[i].Equals(dense) || got[i].TotalCount() != op.Intervals[i].Count {
							t.Errorf("tag %q interval %d: read back %d samples (max %d), the result has %d (max %d)",
								tag, i, got[i].TotalCount(), got[i].Max(), want[i].TotalCount(), want[i].Max())
						}
						total += got[i].TotalCount()
						start := windowStart + op.Intervals[i].OffsetNS/1e6
						end := min(op.Intervals[i].OffsetNS+res.IntervalNS, res.MeasuredNS)/1e6 + windowStart
						// The log keeps microseconds in a float; a millisecond of rounding is allowed.
						if d := got[i].StartTimeMs() - start; d < -1 || d > 1 {
							t.Errorf("tag %q interval %d: starts at %d ms, want %d", tag, i, got[i].StartTimeMs(), start)
						}
						if d := got[i].EndTimeMs() - end; d < -1 || d > 1 {
							t.Errorf("tag %q interval %d: ends at %d ms, want %d", tag, i, got[i].EndTimeMs(), end)
						}
					}
					if total != op.Count {
						t.Errorf("tag %q: intervals hold %d samples, the operation counted %d", tag, total, op.Count)
					}
				}
			}
			if len(read) != tags {
				t.Errorf("read back %d tags, want %d: %v", len(read), tags, keysOf(read))
			}
		})
	}
}

func TestHLogTagReplacesWhatTheFormatForbids(t *testing.T) {
	if got, want := HLogTag("my cache", "get,v2"), "my_cache.get_v2"; got != want {
		t.Errorf("HLogTag = %q, want %q", got, want)
	}
}

func keysOf[V any](m map[string]V) []string {
	return sortedKeys(m)
}
