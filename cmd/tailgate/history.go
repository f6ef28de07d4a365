package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/result/history"
)

// historyFlags are the flags that say what a run added to a history
// measured: the commit and ref, from the environment (GITHUB_SHA, …)
// unless given.
type historyFlags struct {
	commit, ref string
	keep        int
}

func (h *historyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.commit, "commit", "", "commit the run measured (default $GITHUB_SHA)")
	cmd.Flags().StringVar(&h.ref, "ref", "", "branch or tag the run measured (default $GITHUB_REF)")
	cmd.Flags().IntVar(&h.keep, "keep", history.DefaultKeep, "runs the history keeps; older ones are removed")
}

// source is what the run measured.
func (h *historyFlags) source(env environment) history.Source {
	s := history.SourceFromEnv(env.getenv)
	if h.commit != "" {
		s.Commit = h.commit
	}
	if h.ref != "" {
		s.Ref = h.ref
	}
	return s
}

// store opens the history directory given with flag what.
func (h *historyFlags) store(dir, what string) (*history.Store, error) {
	if h.keep < 1 {
		return nil, usageError(fmt.Errorf("--keep %d: a history keeps at least 1 run", h.keep))
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, usageError(fmt.Errorf("%s %q is not a directory", what, dir))
	}
	return &history.Store{Dir: dir, Keep: h.keep}, nil
}

// trend is a run's or check's --history: the store the trend tier is
// judged against, and for run, where the judged result is added.
type trend struct {
	dir   string
	add   bool
	flags historyFlags
	store *history.Store
	hist  *gate.History
}

// open reads the store before anything is measured, so a bad history is
// refused before load.
func (t *trend) open(env environment) error {
	if t.dir == "" {
		return nil
	}
	s, err := t.flags.store(t.dir, "--history")
	if err != nil {
		return err
	}
	runs, err := s.Runs()
	if err != nil {
		return usageError(fmt.Errorf("--history: %w", err))
	}
	t.store, t.hist = s, &gate.History{Runs: runs, Current: t.flags.source(env)}
	return nil
}

// record adds a judged result to the store (run --history); a shard's
// result and an incomplete run are not added.
func (t *trend) record(res *result.Result, env environment) error {
	if t.store == nil || !t.add || !res.Complete || (res.Shard != nil && res.Shard.Count > 1) {
		return nil
	}
	path, err := t.store.Add(history.FromResult(res, t.hist.Current, time.Now()))
	if err != nil {
		return runError(err)
	}
	fmt.Fprintf(env.stderr, "tailgate: run added to the history: %s\n", path)
	return nil
}

func newHistoryCmd(env environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Keep a history of runs and show its trends",
		Long: `history keeps a directory of run summaries (history add, or run --history) against which
the plan's trend tier is judged, and shows the trend of every judged metric (history show).`,
	}
	cmd.AddCommand(newHistoryAddCmd(env), newHistoryShowCmd(env))
	return cmd
}

func newHistoryAddCmd(env environment) *cobra.Command {
	var dir string
	var h historyFlags
	cmd := &cobra.Command{
		Use:   "add RESULT --store DIR",
		Short: "Add a result's summary to a history directory",
		Long: `history add writes a summary of a result file (per operation its counts, percentiles
and whole-run histogram, its objectives and verdict, the runner's figures, and the commit
and CI run from GITHUB_SHA, GITHUB_REF, GITHUB_RUN_ID, GITHUB_REPOSITORY and
GITHUB_SERVER_URL, or --commit and --ref) as a new file of the history directory, and
removes the oldest runs beyond --keep. It prints the file's path. run --history DIR does
the same after judging the trend tier.

Exit status:
  0  the run was added
  2  bad usage or bad input: no --store, unreadable or foreign result, an incomplete
     run or a shard's result, --store not a directory
  3  the history could not be written`,
		Args: needArgs(1, 1, "RESULT, the result file to add"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageError(errors.New("history add needs --store DIR"))
			}
			res, err := result.Read(args[0])
			if err != nil {
				return usageError(err)
			}
			if s := res.Shard; s != nil && s.Count > 1 {
				return usageError(fmt.Errorf("%s is shard %d of %d: merge the shards (tailgate merge) and add the merged result", args[0], s.Index, s.Count))
			}
			if !res.Complete {
				return usageError(fmt.Errorf("%s is incomplete (%s): only complete runs join a history", args[0], res.Incomplete))
			}
			s, err := h.store(dir, "--store")
			if err != nil {
				return err
			}
			path, err := s.Add(history.FromResult(res, h.source(env), time.Now()))
			if err != nil {
				return runError(err)
			}
			fmt.Fprintf(env.stdout, "%s\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "store", "", "history directory (created when missing)")
	h.register(cmd)
	return cmd
}

func newHistoryShowCmd(env environment) *cobra.Command {
	var dir, htmlFile string
	cmd := &cobra.Command{
		Use:   "show --store DIR [--html FILE]",
		Short: "Print the trend of every judged metric of a history, and write it as one HTML page",
		Long: `history show prints, for every latency metric an objective was set on, its runs in the
history, its first and last value, the change points the history confirms and the newest
run's trend verdict. With --html it also writes one self-contained page: the metric run by
run with its bars, the change points marked, and each run linked to its commit.

Exit status:
  0  the trends were printed (and written)
  2  bad usage or bad input: no --store, an empty history, a file of the history that is
     not a run, an unwritable --html
  3  the page could not be written`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError(errors.New("history show needs --store DIR"))
			}
			runs, err := (&history.Store{Dir: dir}).Runs()
			if err != nil {
				return usageError(err)
			}
			if len(runs) == 0 {
				return usageError(fmt.Errorf("history %q holds no runs", dir))
			}
			trends := report.TrendsOf(runs)
			if err := report.TrendText(env.stdout, trends); err != nil {
				return runError(err)
			}
			if htmlFile != "" {
				if err := writable(htmlFile, "--html"); err != nil {
					return err
				}
				if err := report.WriteTrendHTML(htmlFile, trends); err != nil {
					return runError(err)
				}
				fmt.Fprintf(env.stderr, "tailgate: trend page written to %s\n", htmlFile)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "store", "", "history directory")
	cmd.Flags().StringVar(&htmlFile, "html", "", "write the trends as one self-contained HTML page")
	return cmd
}
