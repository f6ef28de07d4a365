package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/gate/stats"
)

// httpCase is one HTTP open-loop work: a rate on a number of connections.
type httpCase struct {
	rate, conns int
}

func (c httpCase) String() string {
	return fmt.Sprintf("%s req/s, %d conns", thousands(c.rate), c.conns)
}

// httpOpenLoop is tailgate against wrk2 at every rate of -http-rates on
// every connection count of -http-conns, against nginx answering 200 from
// its configuration: tailgate and wrk2 take turns on each case.
func (b *bench) httpOpenLoop() *scenario {
	d := b.cfg.duration
	var cases []httpCase
	for _, conns := range b.cfg.httpConns {
		for _, rate := range b.cfg.httpRates {
			cases = append(cases, httpCase{rate, conns})
		}
	}
	s := &scenario{
		name: "http",
		title: fmt.Sprintf("HTTP GET against nginx (`return 200`), open loop, uniform arrivals, %s per run, "+
			"tailgate against wrk2 (-t 2 --latency -U) at %s req/s on %s connections",
			d, joinInts(b.cfg.httpRates, thousands), joinInts(b.cfg.httpConns, strconv.Itoa)),
		server: func() int { return b.srv.nginxPID },
	}
	for _, c := range cases {
		s.sides = append(s.sides,
			side{"tailgate " + c.String(), func(ctx context.Context, r int) (measurement, error) {
				name := fmt.Sprintf("http-%d-%d", c.rate, c.conns)
				m, err := b.runTailgate(ctx, name, r, httpPlanOn(b.srv.nginx, float64(c.rate), c.conns, d))
				m.tool = "tailgate"
				return m, err
			}})
		if b.cfg.alt != "" {
			s.sides = append(s.sides, side{"alt " + c.String(), func(ctx context.Context, r int) (measurement, error) {
				return b.runAlt(ctx, fmt.Sprintf("http-%d-%d", c.rate, c.conns), r, httpPlanOn(b.srv.nginx, float64(c.rate), c.conns, d))
			}})
		}
		s.sides = append(s.sides,
			side{"wrk2 " + c.String(), func(ctx context.Context, r int) (measurement, error) {
				m, err := b.runWrk2(ctx, b.srv.nginx, c.rate, c.conns, d)
				m.tool = "wrk2"
				return m, err
			}})
	}
	s.judge = func(runs [][]measurement) []goal {
		var out []goal
		stride := len(s.sides) / len(cases)
		for i, c := range cases {
			pair := make([][]measurement, len(runs))
			for r, ms := range runs {
				pair[r] = []measurement{ms[stride*i], ms[stride*i+stride-1]}
			}
			cpu := cpuJudge(fmt.Sprintf("HTTP open loop, %s: client CPU per request", c), "wrk2", 1.0)(pair)[0]
			if c.rate != 20_000 {
				cpu.info = true
			}
			out = append(out, cpu)
			if c.rate == 20_000 {
				out = append(out, lateGoal(fmt.Sprintf("HTTP open loop, %s: sends more than 1 ms late", c), pair, 0, 0.01))
			}
			if c.rate == 20_000 || c.rate == 40_000 {
				out = append(out, p99Goal(fmt.Sprintf("HTTP open loop, %s: p99 from the intended start", c), pair))
			}
			if c.rate == 5_000 {
				out = append(out, p50Goal(fmt.Sprintf("HTTP open loop, %s: p50 against tailgate's service-time p50", c), pair))
			}
			if stride == 3 {
				out = append(out, altGoals(fmt.Sprintf("HTTP open loop, %s", c), runs, stride*i)...)
			}
		}
		return out
	}
	return s
}

// altGoals compare the -alt binary (side i+1) with the built one (side
// i): CPU per operation, late sends and p99, for information.
func altGoals(measure string, runs [][]measurement, i int) []goal {
	pair := make([][]measurement, len(runs))
	for r, ms := range runs {
		pair[r] = []measurement{ms[i+1], ms[i]}
	}
	cpu := cpuJudge(measure+": alt's client CPU per operation", "built", 1.0)(pair)[0]
	p99 := p99Goal(measure+": alt's p99", pair)
	late := lateGoal(measure+": alt's late sends", pair, 0, 0.01)
	late.peer = fmt.Sprintf("%.2f%% (built)", 100*medianOf(pair, 1, func(m measurement) float64 { return m.late }))
	cpu.info, p99.info, late.info = true, true, true
	return []goal{cpu, p99, late}
}

// lateGoal is the share of late sends of side i, median over the rounds,
// against at most most; the worst round is shown beside it.
func lateGoal(measure string, runs [][]measurement, i int, most float64) goal {
	med := medianOf(runs, i, func(m measurement) float64 { return m.late })
	worst := 0.0
	for _, ms := range runs {
		worst = math.Max(worst, ms[i].late)
	}
	return goal{measure: measure, tailgate: fmt.Sprintf("%.2f%% (worst round %.2f%%)", 100*med, 100*worst),
		peer: "—", ratioText: "—", target: fmt.Sprintf("≤ %g%%", 100*most), met: med <= most}
}

// p99Goal compares the p99 of side 0 with side 1's: lower is better.
func p99Goal(measure string, runs [][]measurement) goal {
	ratios := make([]float64, len(runs))
	for r, ms := range runs {
		ratios[r] = float64(ms[0].p99) / float64(ms[1].p99)
	}
	r := stats.Median(ratios)
	p99 := func(side int) string {
		return roundDuration(time.Duration(medianOf(runs, side, func(m measurement) float64 { return float64(m.p99) }))).String()
	}
	return goal{measure: measure, tailgate: p99(0), peer: p99(1) + " (" + runs[0][1].tool + ")", ratio: r,
		target: "≤ 1.0× " + runs[0][1].tool, met: r <= 1.0}
}

// p50Goal compares tailgate's p50 from the intended start with its own
// service-time p50 (from the actual send): the pacing's precision, which
// wrk2's p50 (shown beside) does not have.
func p50Goal(measure string, runs [][]measurement) goal {
	ratios := make([]float64, len(runs))
	for r, ms := range runs {
		ratios[r] = float64(ms[0].p50) / float64(ms[0].serviceP50)
	}
	r := stats.Median(ratios)
	dur := func(side int, f func(measurement) time.Duration) string {
		return roundDuration(time.Duration(medianOf(runs, side, func(m measurement) float64 { return float64(f(m)) }))).String()
	}
	p50 := func(m measurement) time.Duration { return m.p50 }
	svc := func(m measurement) time.Duration { return m.serviceP50 }
	return goal{measure: measure, tailgate: dur(0, p50),
		peer:  "service p50 " + dur(0, svc) + "; wrk2 p50 " + dur(1, p50),
		ratio: r, target: "≤ 2.0× service p50", met: r <= 2.0}
}

// redisRates are the Redis open-loop rates; the goal is at the last.
var redisRates = []float64{10_000, 50_000}

// redisOpenLoop is tailgate alone on Redis at each of redisRates, Poisson
// arrivals: whether it sends on time (late sends) and all it was asked
// (the achieved rate), in every round.
func (b *bench) redisOpenLoop() *scenario {
	d := b.cfg.duration
	s := &scenario{
		name:   "rate",
		server: func() int { return b.srv.redisPID },
		title:  fmt.Sprintf("tailgate open loop on Redis (get 90, set 10, Poisson arrivals, 32 connections, 1 s warmup, %s)", d),
	}
	for _, rate := range redisRates {
		plan := kvPlan("redis://"+b.srv.redis, rate, 32, d, "get: 90, set: 10", "poisson")
		name := fmt.Sprintf("rate-%.0fk", rate/1000)
		s.sides = append(s.sides, side{fmt.Sprintf("tailgate %.0fk/s", rate/1000), func(ctx context.Context, r int) (measurement, error) {
			m, err := b.runTailgate(ctx, name, r, plan)
			m.asked = rate
			return m, err
		}})
		if b.cfg.alt != "" {
			s.sides = append(s.sides, side{fmt.Sprintf("alt %.0fk/s", rate/1000), func(ctx context.Context, r int) (measurement, error) {
				m, err := b.runAlt(ctx, name, r, plan)
				m.asked = rate
				return m, err
			}})
		}
	}
	s.judge = func(runs [][]measurement) []goal {
		var out []goal
		stride := len(s.sides) / len(redisRates)
		for k, rate := range redisRates {
			i := stride * k
			var lateOK, rateOK int
			worstLate, worstDev, worstShare := 0.0, 0.0, math.Inf(1)
			var failed int64
			for _, ms := range runs {
				m := ms[i]
				failed += m.errors
				if m.late <= 0.01 {
					lateOK++
				}
				dev := m.opsPerS/m.asked - 1
				if math.Abs(dev) <= 0.005 {
					rateOK++
				}
				worstLate = math.Max(worstLate, m.late)
				if math.Abs(dev) > math.Abs(worstDev) {
					worstDev = dev
				}
				worstShare = math.Min(worstShare, m.achieved)
			}
			n := len(runs)
			info := rate != redisRates[len(redisRates)-1]
			late := goal{
				measure:   fmt.Sprintf("Redis open loop, %.0fk ops/s Poisson: sends more than 1 ms late", rate/1000),
				tailgate:  fmt.Sprintf("%.2f%% (worst round %.2f%%)", 100*medianOf(runs, i, func(m measurement) float64 { return m.late }), 100*worstLate),
				peer:      "—",
				ratioText: fmt.Sprintf("%d of %d rounds", lateOK, n),
				target:    "≤ 1% in every round", met: lateOK == n, info: info,
			}
			achieved := goal{
				measure: fmt.Sprintf("Redis open loop, %.0fk ops/s Poisson: achieved rate (successes per second of the measured window)", rate/1000),
				tailgate: fmt.Sprintf("%.0f ops/s (worst round %+.2f%%); %.3f%% of the operations the seeded schedule intended (worst round %.3f%%)",
					medianOf(runs, i, func(m measurement) float64 { return m.opsPerS }), 100*worstDev,
					100*medianOf(runs, i, func(m measurement) float64 { return m.achieved }), 100*worstShare),
				peer:      fmt.Sprintf("%.0f asked", rate),
				ratioText: fmt.Sprintf("%d of %d rounds", rateOK, n),
				target:    "within 0.5% in every round", met: rateOK == n && failed == 0, info: info,
			}
			if failed > 0 {
				achieved.tailgate += fmt.Sprintf(", %d errors", failed)
			}
			out = append(out, late, achieved)
		}
		return out
	}
	return s
}

// thousands writes 20000 as "20,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func joinInts(xs []int, f func(int) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, ", ")
}

// parseInts reads a comma-separated list of positive integers.
func parseInts(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("want comma-separated positive integers, got %q", v)
		}
		out = append(out, n)
	}
	return out, nil
}
