package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tailgate-dev/tailgate/gate/stats"
)

// bench holds what every scenario shares.
type bench struct {
	cfg      config
	tmp      string
	tailgate string
	peers    peers
	srv      *servers
	machine  machine
}

// measurement is one run of one tool.
type measurement struct {
	tool     string
	requests int64 // operations completed
	errors   int64 // operations failed, unsent included (tailgate only)
	cpu      time.Duration
	// serverCPU is what the target's process spent meanwhile.
	serverCPU time.Duration
	rssKB     int64
	wall      time.Duration
	opsPerS   float64
	p99       time.Duration // zero when the tool reports none
	p50       time.Duration // zero when the tool reports none
	// serviceP50 and serviceP99 are measured from the actual send, where
	// the tool reports them (tailgate's service time, wrk2's uncorrected).
	serviceP50, serviceP99 time.Duration
	p99Note                string // how the tool's p99 is to be read, when not exact
	// asked and onTime serve the rate scenario: the asked rate, and the
	// share of it completed per full interval of the measured window.
	asked  float64
	onTime float64
	// intended is the operations intended in the measured window (those
	// completed, failed and never sent), and achieved the share of them
	// that succeeded: the achieved rate against the asked mean holds the
	// seeded Poisson draw's own deviation too (a few tenths of a percent
	// over a few seconds), this share does not.
	intended int64
	achieved float64
	late     float64 // share of operations sent more than 1 ms late
}

// cpuPerOp is client CPU per completed operation.
func (m measurement) cpuPerOp() time.Duration {
	if m.requests == 0 {
		return 0
	}
	return m.cpu / time.Duration(m.requests)
}

// serverCPUPerOp is the target's CPU per completed operation.
func (m measurement) serverCPUPerOp() time.Duration {
	if m.requests == 0 {
		return 0
	}
	return m.serverCPU / time.Duration(m.requests)
}

// side is one tool's part of a scenario.
type side struct {
	label string
	run   func(ctx context.Context, round int) (measurement, error)
}

// goal is one row of the summary table.
type goal struct {
	measure  string
	tailgate string
	peer     string
	ratio    float64
	// ratioText, when set, is shown instead of ratio.
	ratioText string
	target    string
	met       bool
	// info marks a row shown for comparison, with no goal of its own.
	info bool
}

// scenario is one work measured with one or more tools, side by side.
type scenario struct {
	name  string
	title string
	sides []side
	// server is the target's process id, for its CPU.
	server func() int
	// runs holds every round's measurements, one per side.
	runs [][]measurement
	// judge turns the rounds into summary rows.
	judge func(runs [][]measurement) []goal
}

// round runs every side once, in order.
func (s *scenario) round(ctx context.Context, r int) error {
	var ms []measurement
	for _, sd := range s.sides {
		var pid int
		if s.server != nil {
			pid = s.server()
		}
		before := processCPU(pid)
		m, err := sd.run(ctx, r)
		if err != nil {
			return fmt.Errorf("%s: %w", sd.label, err)
		}
		m.serverCPU = processCPU(pid) - before
		if m.tool == "" {
			m.tool = sd.label
		}
		ms = append(ms, m)
		fmt.Fprintf(os.Stderr, "  %-9s %-20s %8d ops %7.2fs cpu %6.1fus/op (server %5.1f) %9.0f ops/s p99 %-10s rss %5.1f MB",
			s.name, sd.label, m.requests, m.cpu.Seconds(), float64(m.cpuPerOp().Nanoseconds())/1e3,
			float64(m.serverCPUPerOp().Nanoseconds())/1e3, m.opsPerS, showP99(m), float64(m.rssKB)/1024)
		if m.asked > 0 {
			fmt.Fprintf(os.Stderr, " on time %.2f%%, achieved %.3f%% of %d intended, late %.2f%%", 100*m.onTime, 100*m.achieved, m.intended, 100*m.late)
		}
		if m.errors > 0 {
			fmt.Fprintf(os.Stderr, " ERRORS %d", m.errors)
		}
		fmt.Fprintln(os.Stderr)
	}
	s.runs = append(s.runs, ms)
	return nil
}

// tailgateSide is the side labelled label that runs tailgate on plan, its
// runs named name.
func (b *bench) tailgateSide(label, name, plan string) side {
	return side{label, func(ctx context.Context, r int) (measurement, error) {
		return b.runTailgate(ctx, name, r, plan)
	}}
}

func (b *bench) scenarios() []*scenario {
	var out []*scenario
	d := b.cfg.duration
	if b.cfg.wants("http") {
		if b.peers.wrk2 == "" {
			fmt.Fprintln(os.Stderr, wrk2Missing)
		} else {
			out = append(out, b.httpOpenLoop())
		}
	}
	if b.cfg.wants("vegeta") {
		out = append(out, &scenario{
			name:  "vegeta",
			title: fmt.Sprintf("HTTP GET (bench/fastserver), open loop at 5,000 req/s for %s, 8 connections", d),
			sides: []side{
				b.tailgateSide("tailgate", "http", httpPlan(b.srv.http, 5000, d)),
				{"vegeta", func(ctx context.Context, r int) (measurement, error) {
					return b.runVegeta(ctx, b.srv.http, 5000, d)
				}},
			},
			judge:  cpuJudge("HTTP at 5,000 req/s: client CPU per request", "vegeta", 0.5),
			server: func() int { return b.srv.fastPID },
		})
	}
	if b.cfg.wants("grpc") {
		out = append(out, &scenario{
			name:  "grpc",
			title: fmt.Sprintf("gRPC unary (grpc.testing.TestService/UnaryCall), open loop at 3,000 calls/s for %s, 4 connections", d),
			sides: []side{
				b.tailgateSide("tailgate", "grpc", grpcPlan(b.srv.grpc, 3000, d)),
				{"ghz", func(ctx context.Context, r int) (measurement, error) {
					return b.runGhz(ctx, b.srv.grpc, 3000, d)
				}},
			},
			judge:  cpuJudge("gRPC unary at 3,000 req/s: client CPU per call", "ghz", 0.3),
			server: func() int { return b.srv.fastPID },
		})
	}
	if b.cfg.wants("grpc-streams") {
		out = append(out, &scenario{
			name:  "grpc-streams",
			title: fmt.Sprintf("gRPC unary, open loop at 3,000 calls/s for %s, 16 calls at once: on 1 connection (tailgate streams: 16, ghz --concurrency 16 --connections 1) and on 16 (tailgate streams: 1)", d),
			sides: []side{
				b.tailgateSide("tailgate streams: 16", "grpc-streams-16", grpcStreamsPlan(b.srv.grpc, 3000, d, 1, 16)),
				{"ghz", func(ctx context.Context, r int) (measurement, error) {
					return b.runGhzConcurrency(ctx, b.srv.grpc, 3000, d, 16, 1)
				}},
				b.tailgateSide("tailgate streams: 1", "grpc-streams-1", grpcStreamsPlan(b.srv.grpc, 3000, d, 16, 1)),
			},
			judge: func(runs [][]measurement) []goal {
				return append(append(
					cpuJudge("gRPC 16 calls at once on 1 connection (streams: 16): client CPU per call", "ghz", 0.5)(runs),
					cpuJudge("gRPC 16 calls at once on 16 connections (streams: 1): client CPU per call", "ghz", 0.5)(pick(runs, 2, 1))...),
					infoRow(cpuJudge("gRPC streams: 16 on 1 connection vs streams: 1 on 16: client CPU per call", "tailgate streams: 1", 0)(pick(runs, 0, 2))))
			},
			server: func() int { return b.srv.fastPID },
		})
	}
	if b.cfg.wants("h2-streams") {
		out = append(out, &scenario{
			name:  "h2-streams",
			title: fmt.Sprintf("HTTP/2 in the clear (h2c) GET, open loop at 3,000 req/s for %s, 16 at once: tailgate streams: 16 on 1 connection and streams: 1 on 16", d),
			sides: []side{
				b.tailgateSide("tailgate streams: 16", "h2-streams-16", h2StreamsPlan(b.srv.http, 3000, d, 1, 16)),
				b.tailgateSide("tailgate streams: 1", "h2-streams-1", h2StreamsPlan(b.srv.http, 3000, d, 16, 1)),
			},
			judge: func(runs [][]measurement) []goal {
				return []goal{infoRow(cpuJudge("HTTP/2 streams: 16 on 1 connection vs streams: 1 on 16: client CPU per request", "tailgate streams: 1", 0)(runs))}
			},
			server: func() int { return b.srv.fastPID },
		})
	}
	if b.cfg.wants("redis") {
		var n int64 = 200_000
		out = append(out, &scenario{
			name:  "redis",
			title: fmt.Sprintf("Redis GET of 10,000 preloaded 256-byte values, closed loop, 8 connections, about %s", d),
			sides: []side{
				{"tailgate", func(ctx context.Context, r int) (measurement, error) {
					m, err := b.runTailgate(ctx, "redis", r, kvPlan("redis://"+b.srv.redis, 0, 8, d, "get: 100", "uniform"))
					if err == nil && m.opsPerS > 0 {
						n = int64(m.opsPerS * d.Seconds()) // the peer gets as long
					}
					return m, err
				}},
				{"redis-benchmark", func(ctx context.Context, r int) (measurement, error) {
					return b.runRedisBenchmark(ctx, b.srv.redis, 8, n)
				}},
			},
			judge:  throughputJudge("Redis GET closed loop, 8 connections, pipelining off: ops/s", "redis-benchmark", 1.2),
			server: func() int { return b.srv.redisPID },
		})
	}
	if b.cfg.wants("pipeline") {
		depths := []int{1, 4, 16}
		s := &scenario{
			name:   "pipeline",
			title:  fmt.Sprintf("Redis GET of 10,000 preloaded 256-byte values, closed loop, 8 connections, pipeline 1, 4 and 16, about %s each", d),
			server: func() int { return b.srv.redisPID },
		}
		for _, depth := range depths {
			var n int64 = 200_000
			s.sides = append(s.sides,
				side{fmt.Sprintf("tailgate P%d", depth), func(ctx context.Context, r int) (measurement, error) {
					m, err := b.runTailgate(ctx, fmt.Sprintf("pipeline-%d", depth), r,
						pipelinedPlan(kvPlan("redis://"+b.srv.redis, 0, 8, d, "get: 100", "uniform"), depth))
					if err == nil && m.opsPerS > 0 {
						n = int64(m.opsPerS * d.Seconds()) // the peer gets as long
					}
					return m, err
				}},
				side{fmt.Sprintf("redis-benchmark -P %d", depth), func(ctx context.Context, r int) (measurement, error) {
					return b.runRedisBenchmarkPipelined(ctx, b.srv.redis, 8, n, depth)
				}})
		}
		s.judge = func(runs [][]measurement) []goal {
			var out []goal
			for i, depth := range depths {
				out = append(out, throughputJudge(fmt.Sprintf("Redis GET closed loop, 8 connections, pipeline %d: ops/s", depth),
					fmt.Sprintf("redis-benchmark -P %d", depth), 1.0)(pick(runs, 2*i, 2*i+1))...)
			}
			return out
		}
		out = append(out, s)
	}
	if b.cfg.wants("memcache") {
		out = append(out, &scenario{
			name:  "memcache",
			title: fmt.Sprintf("Memcached get of 256-byte values, closed loop, 8 connections, %s", d),
			sides: []side{
				b.tailgateSide("tailgate", "memcache", kvPlan("memcache://"+b.srv.memcached, 0, 8, d, "get: 100", "uniform")),
				{"memcaslap", func(ctx context.Context, r int) (measurement, error) {
					return b.runMemcaslap(ctx, b.srv.memcached, 8, d)
				}},
			},
			judge:  throughputJudge("Memcached get closed loop, 8 connections: ops/s", "memcaslap", 1.0),
			server: func() int { return b.srv.memcachedPID },
		})
	}
	if b.cfg.wants("soak") {
		short, long := d, 4*d
		out = append(out, &scenario{
			server: func() int { return b.srv.fastPID },
			name:   "soak",
			title:  fmt.Sprintf("tailgate's peak RSS, HTTP at 5,000 req/s: a %s soak against a %s one", long, short),
			sides: []side{
				b.tailgateSide("tailgate "+short.String(), "soak-short", httpPlan(b.srv.http, 5000, short)),
				b.tailgateSide("tailgate "+long.String(), "soak-long", httpPlan(b.srv.http, 5000, long)),
			},
			judge: func(runs [][]measurement) []goal {
				ratios := make([]float64, len(runs))
				for i, ms := range runs {
					ratios[i] = float64(ms[1].rssKB) / float64(ms[0].rssKB)
				}
				r := stats.Median(ratios)
				return []goal{{
					measure:  fmt.Sprintf("Peak RSS, %s soak vs %s soak at 5,000 req/s", long, short),
					tailgate: fmt.Sprintf("%.1f MB", medianOf(runs, 1, func(m measurement) float64 { return float64(m.rssKB) / 1024 })),
					peer:     fmt.Sprintf("%.1f MB", medianOf(runs, 0, func(m measurement) float64 { return float64(m.rssKB) / 1024 })),
					ratio:    r, target: "≤ 1.1×", met: r <= 1.1,
				}}
			},
		})
	}
	if b.cfg.wants("rate") {
		out = append(out, b.redisOpenLoop())
	}
	if b.cfg.wants("judge") {
		out = append(out, b.judgeScenario())
	}
	return out
}

// cpuJudge compares client CPU per operation: lower is better.
func cpuJudge(measure, peer string, most float64) func([][]measurement) []goal {
	return func(runs [][]measurement) []goal {
		ratios := make([]float64, len(runs))
		for i, ms := range runs {
			ratios[i] = float64(ms[0].cpuPerOp()) / float64(ms[1].cpuPerOp())
		}
		r := stats.Median(ratios)
		us := func(side int) string {
			return fmt.Sprintf("%.1f µs", medianOf(runs, side, func(m measurement) float64 { return float64(m.cpuPerOp().Nanoseconds()) / 1e3 }))
		}
		return []goal{{measure: measure, tailgate: us(0), peer: us(1) + " (" + peer + ")", ratio: r,
			target: fmt.Sprintf("≤ %.1f× %s", most, peer), met: r <= most}}
	}
}

// pick is every round's measurements of the sides a and b, in that order,
// for a judge of two sides.
func pick(runs [][]measurement, a, b int) [][]measurement {
	out := make([][]measurement, len(runs))
	for i, ms := range runs {
		out[i] = []measurement{ms[a], ms[b]}
	}
	return out
}

// infoRow is the one row of gs, shown for comparison with no goal.
func infoRow(gs []goal) goal {
	g := gs[0]
	g.info, g.target, g.met = true, "", true
	return g
}

// throughputJudge compares operations per second: higher is better.
func throughputJudge(measure, peer string, least float64) func([][]measurement) []goal {
	return func(runs [][]measurement) []goal {
		ratios := make([]float64, len(runs))
		for i, ms := range runs {
			ratios[i] = ms[0].opsPerS / ms[1].opsPerS
		}
		r := stats.Median(ratios)
		ops := func(side int) string {
			return fmt.Sprintf("%.0f/s", medianOf(runs, side, func(m measurement) float64 { return m.opsPerS }))
		}
		return []goal{{measure: measure, tailgate: ops(0), peer: ops(1) + " (" + peer + ")", ratio: r,
			target: fmt.Sprintf("≥ %.1f× %s", least, peer), met: r >= least}}
	}
}

// medianOf is the median over rounds of f of one side's measurement.
func medianOf(runs [][]measurement, side int, f func(measurement) float64) float64 {
	xs := make([]float64, len(runs))
	for i, ms := range runs {
		xs[i] = f(ms[side])
	}
	return stats.Median(xs)
}

func showP99(m measurement) string {
	if m.p99Note != "" {
		return m.p99Note
	}
	if m.p99 <= 0 {
		return "n/a"
	}
	return roundDuration(m.p99).String()
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
