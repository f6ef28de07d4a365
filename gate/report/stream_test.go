package report

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/result"
)

// Every human report of a streaming run gives both latencies: the
// measurements to the end of each stream, and each streaming operation's
// latency to its first message with its messages per stream.
func TestStreamingCallsShowBothLatencies(t *testing.T) {
	res := fixtures(t)["stream"]
	watch := res.Components[0].Operation("watch")
	wantFirst := "watch first message p50 " + Latency(watch.FirstMessageNS.P50) + ", p99 " + Latency(watch.FirstMessageNS.P99)
	for name, render := range map[string]func(io.Writer, *result.Result) error{
		"text": Text, "markdown": Markdown, "html": HTML,
	} {
		var buf bytes.Buffer
		if err := render(&buf, res); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{wantFirst, "3 messages a stream", "5 messages a stream", Latency(watch.LatencyNS.P99)} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q", name, want)
			}
		}
	}
}
