// Package canary watches a deployment with a light slice of a plan's
// workload, repeatedly: every period it runs one short window (a small
// warmup, then a measured window, at a share of the plan's asked rate),
// judges it against the plan's minimum bars, and publishes the latest
// verdicts and latencies on a Prometheus /metrics endpoint.
//
// A window fails when a minimum bar is missed, or when it could not be
// measured (unreachable target, too many errors, a bar without enough
// samples). After a number of consecutive failing windows Run returns
// ErrFailing, unless it was told to keep running.
//
// A canary is meant to run for days: nothing accumulates per window. It keeps
// the latest window's values and running counters, whose label sets are
// fixed by the plan.
//
// The slice is light on purpose: a canary shares its target with production
// traffic. Bars that a window is too short to estimate (a p99.9 needs 10,000
// samples in each window) are left out when the canary starts and listed by
// Excluded; closed-loop components (rate 0, as fast as the target goes) are
// refused.
package canary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// Defaults of a Config.
const (
	DefaultEvery    = time.Minute
	DefaultWindow   = 10 * time.Second
	DefaultWarmup   = time.Second
	DefaultScale    = 0.10
	DefaultFailures = 3
)

// ErrFailing is returned by Run after the configured number of consecutive
// failing windows.
var ErrFailing = errors.New("canary failing")

// ErrConfig marks a configuration the canary cannot run with.
var ErrConfig = errors.New("canary configuration")

// Config says what to watch and how.
type Config struct {
	// Plan is the plan whose workloads are sliced and whose minimum bars
	// judge each window; targets already point at what is watched.
	Plan *slo.Plan
	// Every is how often a window starts; windows run back to back when a
	// window takes longer.
	Every time.Duration
	// Window is the measured length of one window; Warmup precedes it.
	Window time.Duration
	Warmup time.Duration
	// Scale is the share of each component's asked rate a window sends, in
	// (0, 1].
	Scale float64
	// Failures is how many consecutive failing windows make Run return
	// ErrFailing; KeepRunning makes it report them and go on.
	Failures    int
	KeepRunning bool
	// Listen is the address of the /metrics endpoint; empty for none.
	Listen string
	// Log receives one line per window; nil discards them.
	Log io.Writer
	// Tool names the program and version in results.
	Tool string
}

// Canary is one configured watcher. Run it once.
type Canary struct {
	cfg      Config
	judge    *slo.Plan
	specs    []*workloads.Spec
	excluded []string
	reg      *prometheus.Registry
	m        metrics
	listener net.Listener

	mu          sync.Mutex
	windows     int
	consecutive int
}

// New checks cfg, fills its defaults, works out which bars a window can
// judge and binds the metrics address. Errors wrap ErrConfig.
func New(cfg Config) (*Canary, error) {
	if cfg.Plan == nil {
		return nil, fmt.Errorf("%w: no plan", ErrConfig)
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Scale == 0 {
		cfg.Scale = DefaultScale
	}
	if cfg.Failures == 0 {
		cfg.Failures = DefaultFailures
	}
	switch {
	case cfg.Every < 0 || cfg.Window < 0 || cfg.Warmup < 0:
		return nil, fmt.Errorf("%w: --every, --window and --warmup must be positive", ErrConfig)
	case !(cfg.Scale > 0 && cfg.Scale <= 1):
		return nil, fmt.Errorf("%w: --scale %s is outside (0%%, 100%%]", ErrConfig, slo.FormatPercent(cfg.Scale))
	case cfg.Failures < 1:
		return nil, fmt.Errorf("%w: --failures %d: want at least 1", ErrConfig, cfg.Failures)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	c := &Canary{cfg: cfg, reg: prometheus.NewRegistry()}
	judge := &slo.Plan{Version: cfg.Plan.Version, File: cfg.Plan.File, Defaults: cfg.Plan.Defaults, Secrets: cfg.Plan.Secrets}
	for _, comp := range cfg.Plan.Components {
		if comp.Workload.Stages != nil {
			return nil, fmt.Errorf("%w: component %q runs in stages (workload.stages): a canary sends a steady share of one rate; give the canary's plan a rate",
				ErrConfig, comp.Name)
		}
		if !(comp.Workload.Rate > 0) {
			return nil, fmt.Errorf("%w: component %q is closed loop (rate 0): a canary sends a share of an asked rate, and a closed loop would load the target as hard as it goes",
				ErrConfig, comp.Name)
		}
		comp.Workload.Rate *= cfg.Scale
		spec := &workloads.Spec{Component: comp, Duration: cfg.Window, Warmup: cfg.Warmup, Seed: cfg.Plan.Defaults.Seed, Secrets: cfg.Plan.Secrets}
		c.specs = append(c.specs, spec)
		kept := comp
		kept.SLO = slo.SLO{}
		for _, o := range comp.SLO.Minimum {
			expected := comp.Workload.Rate * cfg.Window.Seconds() * comp.Share(o.Operation)
			if need := slo.MinExpectedSamples(o.Metric); o.Metric.IsLatency() && expected < need {
				c.excluded = append(c.excluded, fmt.Sprintf("component %q: %s %s needs %d samples (a window must expect %.0f), a window has about %.0f",
					comp.Name, o.Operation, o.Metric, slo.MinSamples(o.Metric), need, math.Floor(expected)))
				continue
			}
			kept.SLO.Minimum = append(kept.SLO.Minimum, o)
		}
		judge.Components = append(judge.Components, kept)
	}
	c.judge = judge
	c.m = newMetrics(c.reg)
	if cfg.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("%w: --listen %q: %w", ErrConfig, cfg.Listen, err)
		}
		c.listener = ln
	}
	return c, nil
}

// Excluded lists the minimum bars a window is too short to judge.
func (c *Canary) Excluded() []string { return append([]string(nil), c.excluded...) }

// Addr is the bound metrics address, or "" without one.
func (c *Canary) Addr() string {
	if c.listener == nil {
		return ""
	}
	return c.listener.Addr().String()
}

// Handler serves the canary's metrics in the Prometheus exposition formats.
func (c *Canary) Handler() http.Handler {
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{})
}

// Run watches until ctx is canceled (returning nil) or, without
// KeepRunning, until Failures consecutive windows failed (returning an error
// wrapping ErrFailing). A window cut by the cancel is not judged.
func (c *Canary) Run(ctx context.Context) error {
	if c.listener != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", c.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = srv.Serve(c.listener)
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-served
		}()
	}
	for _, e := range c.excluded {
		fmt.Fprintf(c.cfg.Log, "tailgate canary: not judged: %s (raise --window or --scale)\n", e)
	}
	tick := time.NewTicker(c.cfg.Every)
	defer tick.Stop()
	for {
		verdict, err := c.window(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if verdict != status.VerdictPass && c.consecutiveFailures() >= c.cfg.Failures && !c.cfg.KeepRunning {
			return fmt.Errorf("%w: %d consecutive windows failed; the last: %w", ErrFailing, c.consecutiveFailures(), err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (c *Canary) consecutiveFailures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.consecutive
}

// window runs, judges and publishes one window. The error explains a
// verdict other than pass.
func (c *Canary) window(ctx context.Context) (status.Verdict, error) {
	started := time.Now()
	res, runErr := workloads.Run(ctx, c.specs, workloads.Options{Tool: c.cfg.Tool})
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	verdict, why := status.VerdictError, runErr
	var v *gate.Verdict
	if res != nil {
		var err error
		v, err = gate.Judge(c.judge, res, nil)
		switch {
		case err != nil:
			why = err
		case runErr != nil:
		default:
			verdict = v.Status
			why = failures(v)
		}
	}
	c.mu.Lock()
	c.windows++
	n := c.windows
	if verdict == status.VerdictPass {
		c.consecutive = 0
	} else {
		c.consecutive++
	}
	consecutive := c.consecutive
	c.mu.Unlock()

	c.m.publish(verdict, consecutive, time.Now(), res, v)
	line := fmt.Sprintf("tailgate canary: window %d (%s) %s", n, started.UTC().Format(time.RFC3339), strings.ToUpper(string(verdict)))
	if res != nil {
		for _, comp := range res.Components {
			if all := comp.Operation(slo.AllOperations); all != nil && all.Count > 0 {
				line += fmt.Sprintf(" | %s p99 %s, %d ops, %d errors", comp.Name,
					slo.FormatDuration(time.Duration(all.LatencyNS.P99)), all.Count, all.Errors)
			}
		}
	}
	if why != nil {
		line += ": " + why.Error()
	}
	if verdict != status.VerdictPass {
		line += fmt.Sprintf(" (%d consecutive)", consecutive)
	}
	fmt.Fprintln(c.cfg.Log, line)
	return verdict, why
}

// failures describes a verdict's failed and unjudgeable objectives.
func failures(v *gate.Verdict) error {
	var out []string
	for comp, objs := range v.Objectives {
		for _, o := range objs {
			switch o.Status {
			case status.Fail:
				out = append(out, fmt.Sprintf("%s %s %s %s, bar %s", comp, o.Operation, o.Metric, o.Measured, o.Threshold))
			case status.Insufficient:
				out = append(out, fmt.Sprintf("%s %s %s: %s", comp, o.Operation, o.Metric, o.Detail))
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return errors.New(strings.Join(out, "; "))
}
