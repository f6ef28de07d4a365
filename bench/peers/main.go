// Command peers runs tailgate and the peer load generators on the same work,
// side by side on this machine, and prints a table of medians and ratios:
//
//	http      HTTP GET against nginx, open loop at 5,000, 20,000 and 40,000 req/s on 8 and 16
//	          connections: client CPU per request, late sends, p50 and p99, tailgate vs wrk2
//	vegeta    HTTP GET at 5,000 req/s, open loop: client CPU per request, tailgate vs vegeta
//	grpc      gRPC unary at 3,000 req/s, open loop: client CPU per call, tailgate vs ghz
//	grpc-streams  the same, 16 calls at once: tailgate on 1 connection (streams: 16) and on 16
//	          (streams: 1) vs ghz --concurrency 16 --connections 1
//	h2-streams  HTTP/2 (h2c) GET at 3,000 req/s, 16 at once: tailgate streams: 16 on 1
//	          connection vs streams: 1 on 16 connections
//	redis     Redis GET, closed loop, 8 connections: ops/s, tailgate vs redis-benchmark
//	pipeline  the same at pipeline 1, 4 and 16: tailgate's workload.pipeline vs redis-benchmark -P
//	memcache  Memcached get, closed loop, 8 connections: ops/s, tailgate vs memcaslap
//	soak      tailgate's peak RSS over a 4x longer soak at 5,000 req/s (flat memory)
//	rate      tailgate's late sends and achieved rate, open loop on Redis at 10k and 50k ops/s, Poisson
//	judge     tailgate check and report on an hour's soak's result: peak RSS against a ten
//	          minutes' one and against the result file (with -alt, against that binary too)
//
// Every tool runs as a child process; its CPU time (user + system) and peak
// RSS come from the kernel's accounting of the child (getrusage). The tools
// take turns, A B A B, for several rounds, and every figure is the median of
// the rounds; a ratio is the median of the per-round ratios, so a machine
// whose load drifts during the run weighs on both sides alike. Each tool's
// p99 at the same work is printed beside its cost: speed bought with
// accuracy would show there.
//
// wrk2 (github.com/giltene/wrk2) is found by -wrk2 or as wrk2 on PATH; without
// it the http scenario is skipped with a line saying so.
//
// Servers (redis-server, memcached, nginx, and bench/fastserver for HTTP and gRPC)
// are started on free loopback ports and stopped at the end. Run it from the
// repository root: bench/run [flags].
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	cfg := config{}
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of A B alternation")
	flag.DurationVar(&cfg.duration, "duration", 4*time.Second, "length of one load run")
	flag.StringVar(&cfg.only, "only", "http,vegeta,grpc,redis,memcache,soak,rate,judge", "comma-separated scenarios to run (pipeline too)")
	flag.StringVar(&cfg.alt, "alt", "", "a second tailgate binary, run beside the built one in the http and rate scenarios (A/B of engine changes)")
	flag.Func("alt-env", "KEY=VALUE in the -alt binary's environment (repeatable); with -alt self, the built binary in that environment", envFlag(&cfg.altEnv))
	flag.StringVar(&cfg.wrk2, "wrk2", "", "path of the wrk2 binary (default: wrk2 on PATH)")
	cfg.httpRates, cfg.httpConns = []int{5_000, 20_000, 40_000}, []int{8, 16}
	flag.Func("http-rates", "comma-separated rates of the http scenario (default 5000,20000,40000)", func(v string) (err error) {
		cfg.httpRates, err = parseInts(v)
		return err
	})
	flag.Func("http-conns", "comma-separated connection counts of the http scenario (default 8,16)", func(v string) (err error) {
		cfg.httpConns, err = parseInts(v)
		return err
	})
	flag.StringVar(&cfg.results, "results", "", "also write the report to this Markdown file (bench/RESULTS.md)")
	flag.StringVar(&cfg.profiles, "profile", "", "directory for tailgate CPU profiles (TAILGATE_CPUPROFILE), one per run")
	flag.Func("tailgate-env", "KEY=VALUE in tailgate's environment, for experiments such as GOMAXPROCS=1 (repeatable)", envFlag(&cfg.tailgateEnv))
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// config is the harness's flags.
type config struct {
	rounds      int
	duration    time.Duration
	only        string
	results     string
	profiles    string
	tailgateEnv []string
	wrk2        string
	// alt and altEnv are the A/B twin of the tailgate binary.
	alt    string
	altEnv []string
	// httpRates and httpConns are the http scenario's cases.
	httpRates, httpConns []int
}

// envFlag is the value function of a repeatable KEY=VALUE flag that
// appends each value to *env.
func envFlag(env *[]string) func(string) error {
	return func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		*env = append(*env, v)
		return nil
	}
}

func (c config) wants(scenario string) bool {
	for _, s := range strings.Split(c.only, ",") {
		if strings.TrimSpace(s) == scenario {
			return true
		}
	}
	return false
}

func run(ctx context.Context, cfg config) error {
	if cfg.rounds < 1 || cfg.duration < time.Second || cfg.duration > time.Minute {
		return fmt.Errorf("-rounds must be at least 1 and -duration between 1s and 1m")
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "tailgate")); err != nil {
		return fmt.Errorf("run from the repository root (bench/run does): %w", err)
	}
	tmp, err := os.MkdirTemp("", "tailgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if cfg.profiles != "" {
		if cfg.profiles, err = filepath.Abs(cfg.profiles); err != nil {
			return err
		}
		if err := os.MkdirAll(cfg.profiles, 0o755); err != nil {
			return err
		}
	}

	b := &bench{cfg: cfg, tmp: tmp, machine: describeMachine()}
	b.machine.loadBefore = loadAverage()
	fmt.Fprintf(os.Stderr, "bench: building tailgate and fastserver\n")
	if b.tailgate, err = build(ctx, root, tmp, "./cmd/tailgate", "tailgate"); err != nil {
		return err
	}
	switch {
	case b.cfg.alt == "self":
		b.cfg.alt = b.tailgate
	case b.cfg.alt != "":
		if b.cfg.alt, err = filepath.Abs(b.cfg.alt); err != nil {
			return err
		}
		if !fileExists(b.cfg.alt) {
			return fmt.Errorf("-alt %q: no such file", b.cfg.alt)
		}
	}
	fastserver, err := build(ctx, root, tmp, "./bench/fastserver", "fastserver")
	if err != nil {
		return err
	}
	b.peers = findPeers(cfg.wrk2)

	srv := &servers{}
	defer srv.stop()
	if cfg.wants("http") && b.peers.wrk2 != "" {
		if err := srv.startNginx(tmp); err != nil {
			return err
		}
	}
	if cfg.wants("vegeta") || cfg.wants("grpc") || cfg.wants("grpc-streams") || cfg.wants("h2-streams") || cfg.wants("soak") || cfg.wants("judge") {
		if err := srv.startFast(fastserver); err != nil {
			return err
		}
	}
	if cfg.wants("redis") || cfg.wants("rate") || cfg.wants("pipeline") {
		if err := srv.startRedis(tmp); err != nil {
			return err
		}
	}
	if cfg.wants("memcache") {
		if err := srv.startMemcached(); err != nil {
			return err
		}
	}
	b.srv = srv

	scenarios := b.scenarios()
	for r := 1; r <= cfg.rounds; r++ {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d (load %s)\n", r, cfg.rounds, loadAverage())
		for _, s := range scenarios {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.round(ctx, r); err != nil {
				return fmt.Errorf("%s, round %d: %w", s.name, r, err)
			}
		}
	}
	b.machine.loadAfter = loadAverage()
	report := b.report(scenarios)
	fmt.Print(report)
	if cfg.results != "" {
		if err := os.WriteFile(cfg.results, []byte(report), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: report written to %s\n", cfg.results)
	}
	return nil
}
