package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/otlp"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// runIDEnv names the run id every data point carries, when set.
const runIDEnv = "TAILGATE_RUN_ID"

// otlpRun is a run's OpenTelemetry export; nil when export is off, and then
// its methods do nothing.
type otlpRun struct {
	exp     *otlp.Exporter
	secrets []string // the endpoint's password, if any: never printed
}

// startOTLP starts exporting when --otlp-endpoint or the standard
// OTEL_EXPORTER_OTLP_* variables name a collector. A bad setting is a usage
// error, found before any load is sent; a collector that is down is not: the
// run goes on and a warning says how many exports failed.
func startOTLP(ctx context.Context, flag string, p *slo.Plan, shard result.Shard, env environment) (*otlpRun, error) {
	lookup := env.lookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	endpoint, headers, err := otlp.Resolve(flag, lookup)
	if err != nil {
		return nil, usageError(err)
	}
	if endpoint == "" {
		return nil, nil
	}
	// The shards of one run share TAILGATE_RUN_ID when the pipeline sets it
	// (e.g. to its run number); otherwise each runner names its own.
	runID, ok := lookup(runIDEnv)
	if !ok || runID == "" {
		runID = fmt.Sprintf("seed%d-%s", p.Defaults.Seed, time.Now().UTC().Format("20060102T150405.000Z"))
	}
	cfg := otlp.Config{Endpoint: endpoint, Headers: headers, RunID: runID, Version: version}
	if shard.Count > 1 {
		cfg.Shard = fmt.Sprintf("%d/%d", shard.Index, shard.Count)
	}
	exp, err := otlp.New(ctx, cfg)
	if err != nil {
		return nil, usageError(err)
	}
	o := &otlpRun{exp: exp, secrets: slo.TargetSecrets(endpoint)}
	fmt.Fprintf(env.stderr, "tailgate: exporting metrics over OTLP to %s, run id %s\n", workloads.Redact(endpoint, o.secrets), runID)
	return o, nil
}

// progress returns the engine's progress callback: next, then the export.
func (o *otlpRun) progress(next func(workloads.Progress)) func(workloads.Progress) {
	if o == nil {
		return next
	}
	return func(p workloads.Progress) {
		next(p)
		o.exp.Observe(p)
	}
}

// close sends the final result and stops the export; failed exports are a
// warning, never the run's failure.
func (o *otlpRun) close(res *result.Result, env environment) {
	if o == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.exp.Close(ctx, res); err != nil {
		fmt.Fprintf(env.stderr, "tailgate: warning: %s\n", workloads.Redact(err.Error(), o.secrets))
	}
}
