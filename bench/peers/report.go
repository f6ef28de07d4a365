package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	cpus       int
	model      string
	kernel     string
	goVersion  string
	loadBefore string
	loadAfter  string
}

func describeMachine() machine {
	m := machine{cpus: runtime.NumCPU(), model: "unknown", kernel: "unknown", goVersion: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(b))
	}
	return m
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// report renders the summary and the per-tool medians as Markdown.
func (b *bench) report(scenarios []*scenario) string {
	var w strings.Builder
	m := b.machine
	fmt.Fprintf(&w, "# tailgate against peer load generators\n\n")
	fmt.Fprintf(&w, "Written by `bench/run` (bench/peers) on %s. Every figure is the median of %d rounds; "+
		"the tools take turns (A B A B …) and a ratio is the median of the per-round ratios. "+
		"CPU is the child process's user + system time and peak RSS its maximum resident set, from getrusage; "+
		"server CPU is what the target's process used meanwhile (/proc, 10 ms ticks).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), b.cfg.rounds)
	fmt.Fprintf(&w, "Machine: %d CPUs, %s; Linux %s; %s. Load average %s before, %s after.\n\n",
		m.cpus, m.model, m.kernel, m.goVersion, m.loadBefore, m.loadAfter)
	fmt.Fprintf(&w, "Command: `bench/run %s`\n\n", strings.Join(os.Args[1:], " "))

	fmt.Fprintf(&w, "## Goals\n\n")
	fmt.Fprintf(&w, "| measure | tailgate | peer | ratio | goal | met |\n|---|---|---|---|---|---|\n")
	for _, s := range scenarios {
		if len(s.runs) == 0 {
			continue
		}
		for _, g := range s.judge(s.runs) {
			met, target, ratio := "no", g.target, fmt.Sprintf("%.3f×", g.ratio)
			switch {
			case g.info && g.target == "":
				met, target = "—", "(no goal: a comparison)"
			case g.info:
				met, target = "—", "(no goal; "+g.target+" at the goal's rate)"
			case g.met:
				met = "yes"
			}
			if g.ratioText != "" {
				ratio = g.ratioText
			}
			fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", g.measure, g.tailgate, g.peer, ratio, target, met)
		}
	}

	fmt.Fprintf(&w, "\n## Runs (medians of the rounds)\n")
	for _, s := range scenarios {
		if len(s.runs) == 0 {
			continue
		}
		fmt.Fprintf(&w, "\n### %s\n\n%s\n\n", s.name, s.title)
		fmt.Fprintf(&w, "| tool | operations | errors | CPU s | CPU µs/op | server CPU µs/op | ops/s | p50 | p99 | service p50 / p99 | late | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for i := range s.sides {
			med := func(f func(measurement) float64) float64 { return medianOf(s.runs, i, f) }
			p99 := time.Duration(med(func(x measurement) float64 { return float64(x.p99) }))
			p99s := "n/a"
			if p99 > 0 {
				p99s = roundDuration(p99).String()
				if note := s.runs[0][i].p99Note; note != "" {
					p99s = "< " + roundDuration(p99).String() + " (log2 bucket)"
				}
			}
			show := func(f func(measurement) time.Duration) string {
				v := time.Duration(med(func(x measurement) float64 { return float64(f(x)) }))
				if v <= 0 {
					return "n/a"
				}
				return roundDuration(v).String()
			}
			p50s := show(func(x measurement) time.Duration { return x.p50 })
			svc := show(func(x measurement) time.Duration { return x.serviceP50 }) + " / " + show(func(x measurement) time.Duration { return x.serviceP99 })
			late := "n/a"
			if strings.HasPrefix(s.runs[0][i].tool, "tailgate") {
				late = fmt.Sprintf("%.2f%%", 100*med(func(x measurement) float64 { return x.late }))
			}
			fmt.Fprintf(&w, "| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.0f | %s | %s | %s | %s | %.1f MB |\n",
				s.sides[i].label,
				med(func(x measurement) float64 { return float64(x.requests) }),
				med(func(x measurement) float64 { return float64(x.errors) }),
				med(func(x measurement) float64 { return x.cpu.Seconds() }),
				med(func(x measurement) float64 { return float64(x.cpuPerOp().Nanoseconds()) / 1e3 }),
				med(func(x measurement) float64 { return float64(x.serverCPUPerOp().Nanoseconds()) / 1e3 }),
				med(func(x measurement) float64 { return x.opsPerS }),
				p50s, p99s, svc, late,
				med(func(x measurement) float64 { return float64(x.rssKB) / 1024 }))
		}
	}
	fmt.Fprintf(&w, "\np99: tailgate's is measured from each operation's intended start (corrected); "+
		"wrk2's p50 and p99 too (its corrected \"Recorded Latency\"), its service p50 / p99 from the actual send (\"Uncorrected\"); "+
		"vegeta's, ghz's, redis-benchmark's and memcaslap's from the actual send. "+
		"In a closed loop the two are the same. late: share of operations sent more than 1 ms after their intended start.\n\n"+
		"Where tailgate's CPU goes, and why the figures stop where they do: bench/PROFILES.md.\n")
	return w.String()
}
