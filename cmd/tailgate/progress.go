package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// offTerminalEvery is how often progress is printed when no one watches a
// terminal: CI logs get a line every ten seconds, not a flood.
const offTerminalEvery = 10 * time.Second

// progressPrinter shows a run's progress: a live line on a terminal, a
// line every ten seconds elsewhere. Never both.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	last     time.Time
	drawn    bool
}

func (p *progressPrinter) show(pr workloads.Progress) {
	if !p.terminal && time.Since(p.last) < offTerminalEvery {
		return
	}
	p.last = time.Now()
	var b strings.Builder
	phase := "measuring"
	if pr.Warmup {
		phase = "warming up"
	}
	fmt.Fprintf(&b, "tailgate: %s %s/%s", phase, pr.Elapsed.Round(time.Second), pr.Total.Round(time.Second))
	for _, c := range pr.Components {
		fmt.Fprintf(&b, " | %s %.0f/s errors %d", c.Name, c.Rate, c.Errors)
		if c.Operations > 0 {
			fmt.Fprintf(&b, " p99 %s", slo.FormatDuration(c.P99))
		}
	}
	if pr.RunnerDelay > workloads.LateAfter {
		// Said while it lasts, not only in the verdict at the end: a
		// soak on a starved runner can be stopped and moved early.
		fmt.Fprintf(&b, " | tailgate behind: wake-ups %s late", slo.FormatDuration(pr.RunnerDelay))
	}
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", b.String())
		p.drawn = true
	} else {
		fmt.Fprintln(p.w, b.String())
	}
}

// keyspace shows how far a prefill or cleanup got, as show does a run's
// load; its last call (every key done) is always printed.
func (p *progressPrinter) keyspace(k workloads.KeyspaceProgress) {
	finished := k.Done+k.Failed >= k.Total
	if !p.terminal && !finished && time.Since(p.last) < offTerminalEvery {
		return
	}
	p.last = time.Now()
	line := fmt.Sprintf("tailgate: %s of %s: %d/%d keys in %s", k.Pass, k.Component, k.Done, k.Total, k.Elapsed.Round(100*time.Millisecond))
	if k.Failed > 0 {
		line += fmt.Sprintf(", %d failed", k.Failed)
	}
	switch {
	case p.terminal && finished:
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
		p.drawn = false
	case p.terminal:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
	default:
		fmt.Fprintln(p.w, line)
	}
}

// done ends the live line, so what follows starts on a fresh line.
func (p *progressPrinter) done() {
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
