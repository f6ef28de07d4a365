package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/canary"
	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/slo"
)

type canaryFlags struct {
	planFlags
	every       string
	window      string
	warmup      string
	scale       string
	failures    int
	keepRunning bool
	listen      string
}

func newCanaryCmd(env environment) *cobra.Command {
	var f canaryFlags
	cmd := &cobra.Command{
		Use:   "canary -c PLAN [--every D] [--failures K] [--keep-running] [--listen ADDR] [--window D] [--scale P]",
		Short: "Watch a deployment: judge a light slice of the plan every period, publish verdicts on /metrics",
		Long: `canary runs a light slice of the plan repeatedly and judges each window against the plan's
minimum bars. Every --every it runs one window: --warmup of load, then --window measured, at
--scale of each component's asked rate (same seed, keys and mix as the plan). Bars a window is
too short to estimate (p99.9 needs 10,000 samples a window) are listed at the start and left
out; raise --window or --scale to judge them. Closed-loop components are refused.

A window fails when a minimum bar is missed, or when it could not be measured (unreachable
target, too many errors). The latest verdicts, latencies and bars, and counters of windows,
operations and errors, are served on http://--listen/metrics for Prometheus; memory stays flat
however long the canary runs. An operation with no successful reply in the latest window has
no latency series (never a 0), so an outage cannot look fast.

Exit status: 1 after --failures consecutive failing windows (with --keep-running: never, the
failures are reported and the canary goes on); 0 when stopped by a signal; 2 bad usage.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCanary(cmd, f, env)
		},
	}
	fl := cmd.Flags()
	f.planFlags.register(fl)
	fl.StringVar(&f.every, "every", "1m", "how often a window starts")
	fl.StringVar(&f.window, "window", "10s", "measured length of one window")
	fl.StringVar(&f.warmup, "warmup", "1s", "load applied before each window, not measured")
	fl.StringVar(&f.scale, "scale", "10%", "share of each component's asked rate a window sends")
	fl.IntVar(&f.failures, "failures", canary.DefaultFailures, "consecutive failing windows before exiting 1")
	fl.BoolVar(&f.keepRunning, "keep-running", false, "report failing windows and go on instead of exiting")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9464", "address of the Prometheus /metrics endpoint; empty for none")
	return cmd
}

func runCanary(cmd *cobra.Command, f canaryFlags, env environment) error {
	p, err := f.load(env)
	if err != nil {
		return err
	}
	cfg := canary.Config{Plan: p, Failures: f.failures, KeepRunning: f.keepRunning, Listen: f.listen,
		Log: env.stderr, Tool: "tailgate " + version}
	if cfg.Every, err = parseDurationFlag("every", f.every); err != nil {
		return err
	}
	if cfg.Window, err = parseDurationFlag("window", f.window); err != nil {
		return err
	}
	if cfg.Warmup, err = parseDurationFlag("warmup", f.warmup); err != nil {
		return err
	}
	if cfg.Every <= 0 || cfg.Window <= 0 {
		return usageError(errors.New("--every and --window must be longer than 0"))
	}
	if cfg.Scale, err = slo.ParsePercent(f.scale); err != nil {
		return usageError(fmt.Errorf("--scale: %w", err))
	}
	if cfg.Scale == 0 {
		return usageError(errors.New("--scale 0%: a canary must send some load"))
	}
	c, err := canary.New(cfg)
	if err != nil {
		return usageError(err)
	}
	if addr := c.Addr(); addr != "" {
		fmt.Fprintf(env.stderr, "tailgate canary: metrics on http://%s/metrics; a window of %s every %s at %s of the asked rate\n",
			addr, slo.FormatDuration(cfg.Window), slo.FormatDuration(cfg.Every), f.scale)
	}
	if err := c.Run(cmd.Context()); err != nil {
		if errors.Is(err, canary.ErrFailing) {
			return &exitError{code: gate.ExitFail, err: err}
		}
		return runError(err)
	}
	return nil
}
