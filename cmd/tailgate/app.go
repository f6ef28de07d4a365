package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"

	// The drivers register their URL schemes.
	_ "github.com/tailgate-dev/tailgate/workloads/grpc"
	_ "github.com/tailgate-dev/tailgate/workloads/http"
	_ "github.com/tailgate-dev/tailgate/workloads/memcache"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// environment is everything a command touches outside its arguments, so
// commands run in-process in tests.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	lookupEnv      func(string) (string, bool)
	// terminal is true when progress goes to an interactive terminal.
	terminal bool
}

// exitError carries the exit status an error maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is bad usage or bad input: exit 2.
func usageError(err error) error { return &exitError{code: gate.ExitUsage, err: err} }

// runError is a run that failed to measure: exit 3.
func runError(err error) error { return &exitError{code: gate.ExitRun, err: err} }

// verdictExit is the exit status of a judged run, with nothing more to print.
type verdictExit struct{ code int }

func (v *verdictExit) Error() string { return fmt.Sprintf("exit status %d", v.code) }

// run executes one tailgate command line and returns its exit status.
func run(ctx context.Context, args []string, env environment) int {
	root := newRoot(ctx, env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return gate.ExitPass
	}
	var v *verdictExit
	if errors.As(err, &v) {
		return v.code
	}
	msg := err.Error()
	fmt.Fprintf(env.stderr, "tailgate: %s\n", strings.TrimSuffix(msg, "\n"))
	// Anything cobra rejects (unknown command or flag, missing argument) is usage.
	code := gate.ExitUsage
	var e *exitError
	if errors.As(err, &e) {
		code = e.code
	}
	githubFailure(env, code, err) // GitHub Actions: the job summary and annotations (github.go)
	return code
}

func newRoot(ctx context.Context, env environment) *cobra.Command {
	root := &cobra.Command{
		Use:   "tailgate",
		Short: "Performance-qualification gate: soak a deployment, judge its tail latencies against SLOs",
		Long: `tailgate drives a fixed, seeded open-loop workload against a deployment, records every
latency in HDR histograms, judges p99/p99.9/p99.99/max against per-component SLOs and
exits non-zero when a bar is missed.

Exit status: 0 every objective judged passed; 1 an objective failed; 2 bad usage or
input; 3 the run failed or could not be judged (unreachable target, too many errors,
interrupted, too few samples, inconclusive, nothing judged).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetContext(ctx)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	root.AddCommand(
		newRunCmd(env),
		newCapacityCmd(env),
		newCheckCmd(env),
		newCompareCmd(env),
		newReportCmd(env),
		newValidateCmd(env),
		newPlanCmd(env),
		newPromoteCmd(env),
		newMergeCmd(env),
		newCanaryCmd(env),
		newHistoryCmd(env),
		newVersionCmd(env),
	)
	describe(root)
	return root
}

func newVersionCmd(env environment) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tailgate's version",
		Long:  "version prints the version of this tailgate binary: the release tag it was built from, or dev.",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(env.stdout, "tailgate %s\n", version)
			return err
		},
	}
}

// checkWritableDir makes sure dir exists (creating it) and takes files.
func checkWritableDir(dir, what string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError(fmt.Errorf("%s %q: %w", what, dir, err))
	}
	f, err := os.CreateTemp(dir, ".tailgate-write-check-*")
	if err != nil {
		return usageError(fmt.Errorf("%s %q is not writable: %w", what, dir, err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
