package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tailgate-dev/tailgate/workloads"
)

func TestProgress(t *testing.T) {
	t.Parallel()
	snapshot := workloads.Progress{Elapsed: 3 * time.Second, Total: 13 * time.Second, Components: []workloads.ComponentProgress{
		{Name: "cache", Operations: 5000, Errors: 2, Rate: 1998.6, P99: 1200 * time.Microsecond},
	}}
	t.Run("a terminal gets one live line, redrawn in place", func(t *testing.T) {
		var out strings.Builder
		p := &progressPrinter{w: &out, terminal: true}
		for range 3 {
			p.show(snapshot)
		}
		p.done()
		assert.Equal(t, 3, strings.Count(out.String(), "\r\033[K"+"tailgate: measuring 3s/13s | cache 1999/s errors 2 p99 1.2ms"))
		assert.NotContains(t, out.String(), "\n")
	})
	t.Run("a log gets a line every ten seconds, not a flood", func(t *testing.T) {
		var out strings.Builder
		p := &progressPrinter{w: &out}
		for range 3 {
			p.show(snapshot)
		}
		assert.Equal(t, "tailgate: measuring 3s/13s | cache 1999/s errors 2 p99 1.2ms\n", out.String())
		p.last = time.Now().Add(-offTerminalEvery)
		p.show(snapshot)
		assert.Equal(t, 2, strings.Count(out.String(), "\n"))
		assert.NotContains(t, out.String(), "\r")
	})
	t.Run("a load generator running late says so while it lasts", func(t *testing.T) {
		for _, tc := range []struct {
			delay time.Duration
			want  string
		}{
			{time.Millisecond, "tailgate: measuring 3s/13s | cache 1999/s errors 2 p99 1.2ms\n"},
			{3100 * time.Microsecond, "tailgate: measuring 3s/13s | cache 1999/s errors 2 p99 1.2ms | tailgate behind: wake-ups 3.1ms late\n"},
		} {
			var out strings.Builder
			late := snapshot
			late.RunnerDelay = tc.delay
			(&progressPrinter{w: &out}).show(late)
			assert.Equal(t, tc.want, out.String())
		}
	})
}
