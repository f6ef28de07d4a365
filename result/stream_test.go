package result

import (
	"testing"
	"time"
)

// streamingResult is consistentResult with a streaming call's record: two
// messages a call, the first at a tenth of each call's latency.
func streamingResult(t *testing.T) *Result {
	t.Helper()
	r := consistentResult(t)
	o := &r.Components[0].Operations[0]
	first := NewHistogram()
	for i := int64(1); i <= o.Count; i++ {
		if err := first.RecordValue(i * 100); err != nil {
			t.Fatal(err)
		}
	}
	o.Messages = 2 * o.Count
	o.SetFirstMessage(first)
	return r
}

func TestDecodeChecksFirstMessages(t *testing.T) {
	op := func(r *Result) *OperationResult { return &r.Components[0].Operations[0] }
	checkDecodes(t, streamingResult, []decodeCase{
		{"first messages read from their histogram", func(*Result) {}, ""},
		{"an operation that does not stream", func(r *Result) { op(r).SetFirstMessage(nil); op(r).Messages = 0 }, ""},
		{"a stored first message p99 off its histogram", func(r *Result) { op(r).FirstMessageNS.P99 *= 3 }, "stored first message p99"},
		{"first message percentiles without their histogram", func(r *Result) { op(r).FirstMessageHistogram = "" }, "must come together"},
		{"a first message histogram without percentiles", func(r *Result) { op(r).FirstMessageNS = nil }, "must come together"},
		{"more first messages than successes", func(r *Result) {
			o := op(r)
			first := NewHistogram()
			for i := int64(0); i <= o.Count; i++ {
				_ = first.RecordValue(100)
			}
			o.SetFirstMessage(first)
		}, "more than"},
		{"more first messages than messages", func(r *Result) { op(r).Messages = 10 }, "more than"},
		{"a negative message count", func(r *Result) { op(r).Messages = -1 }, "negative message count"},
	})
}

// Shards' first messages merge exactly, and a shard without any (an
// operation that did not stream, an older file) adds none.
func TestMergedOperationsKeepTheirFirstMessages(t *testing.T) {
	a, b := streamingResult(t).Components[0].Operations[0], streamingResult(t).Components[0].Operations[0]
	plain := consistentResult(t).Components[0].Operations[0]
	merged, err := mergeOperation([]*OperationResult{&a, &b, &plain}, []int{0, 0, 0}, time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Messages != a.Messages+b.Messages {
		t.Errorf("%d messages, want %d", merged.Messages, a.Messages+b.Messages)
	}
	h, err := merged.FirstMessages()
	if err != nil || merged.FirstMessageNS == nil || h.TotalCount() != 2*a.Count {
		t.Fatalf("merged first messages %v: %d samples (%v); want %d", merged.FirstMessageNS, h.TotalCount(), err, 2*a.Count)
	}
	if merged.FirstMessageNS.P99 != a.FirstMessageNS.P99 || merged.FirstMessageNS.Max != a.FirstMessageNS.Max {
		t.Errorf("merged first message p99 %d, max %d; want the shards' own, %d, %d (the same samples twice)",
			merged.FirstMessageNS.P99, merged.FirstMessageNS.Max, a.FirstMessageNS.P99, a.FirstMessageNS.Max)
	}
	none, err := mergeOperation([]*OperationResult{&plain, &plain}, []int{0, 0}, time.Second, time.Second)
	if err != nil || none.FirstMessageNS != nil || none.FirstMessageHistogram != "" || none.Messages != 0 {
		t.Errorf("operations that do not stream merge into first messages %v, %d messages (%v); want none", none.FirstMessageNS, none.Messages, err)
	}
}
