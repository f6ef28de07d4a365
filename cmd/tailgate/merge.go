package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

func newMergeCmd(env environment) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge SHARD... --out RESULT",
		Short: "Merge the results of a run's shards (run --shard I/N) into the whole run's result",
		Long: `merge combines the result files of the N shards of one run (tailgate run --shard I/N,
I = 1..N, same plan and seed) into the result of the whole run, exactly: the whole-run and
per-interval HdrHistograms are merged bucket by bucket and every percentile is read again
from the merged histograms, never averaged. Counts, errors by kind and late operations add
up; the asked rate is the sum of the shards'; the achieved rate is recomputed over the union
of the shards' measured windows. Shards started at different times are aligned by wall
clock: a shard's interval i lands in interval i + floor((its measured_start - the earliest
measured_start) / interval).

merge does not judge. The merged result has no objectives and verdict "pass" (nothing judged
yet), or "error" when a shard was incomplete. Judge it like any other result:

  tailgate merge shard-*.json --out merged.json
  tailgate check -c PLAN merged.json

Exit status: 0 merged; 2 the files are not the shards of one run (different plans, seeds,
workloads or shard counts, a shard missing or given twice) or are unreadable, nothing
written; 3 a shard was incomplete: the merged result is written, marked incomplete.`,
		Args: needArgs(1, -1, "at least one SHARD, a shard's result file"),
		RunE: func(_ *cobra.Command, args []string) error {
			return runMerge(args, out, env)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "where to write the merged result (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runMerge(files []string, out string, env environment) error {
	absOut, _ := filepath.Abs(out)
	shards := make([]*result.Result, len(files))
	for i, f := range files {
		if abs, _ := filepath.Abs(f); abs == absOut {
			return usageError(fmt.Errorf("--out %q is one of the shards: write the merged result elsewhere", out))
		}
		r, err := result.Read(f)
		if err != nil {
			return usageError(err)
		}
		shards[i] = r
	}
	if err := writable(out, "--out"); err != nil {
		return err
	}
	merged, err := result.Merge(shards, files)
	if err != nil {
		if errors.Is(err, result.ErrUnmergeable) || errors.Is(err, result.ErrInvalid) {
			return usageError(err)
		}
		return runError(err)
	}
	if err := merged.WriteFile(out); err != nil {
		return runError(err)
	}
	fmt.Fprintf(env.stdout, "merged %d shards: measured window %s from %s\n", len(shards),
		slo.FormatDuration(time.Duration(merged.MeasuredNS).Round(time.Millisecond)), merged.MeasuredStart.Format(time.RFC3339Nano))
	for _, c := range merged.Components {
		if all := c.Operation(slo.AllOperations); all != nil {
			fmt.Fprintf(env.stdout, "  %s: %d operations, %d errors, asked %.0f/s, achieved %.0f/s, p99 %s, max %s\n",
				c.Name, all.Count, all.Errors, all.AskedRate, all.AchievedRate,
				slo.FormatDuration(time.Duration(all.LatencyNS.P99)), slo.FormatDuration(time.Duration(all.LatencyNS.Max)))
		}
	}
	for _, w := range merged.Warnings {
		fmt.Fprintf(env.stderr, "tailgate: warning: %s\n", w)
	}
	fmt.Fprintf(env.stderr, "tailgate: merged result written to %s; judge it with: tailgate check -c PLAN %s\n", out, out)
	if !merged.Complete {
		return runError(fmt.Errorf("the merged result is incomplete: %s", merged.Incomplete))
	}
	return nil
}
