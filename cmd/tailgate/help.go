package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exitStatus is each command's exit-code table, as its --help prints it,
// by command path below tailgate.
// Commands whose description already ends in one (canary, merge, plan
// hash) are not listed.
var exitStatus = map[string]string{
	"run": `Exit status:
  0  every minimum and regression objective passed
  1  an objective failed: the diff report says which, and by how much
  2  bad usage or bad input: unknown flag, invalid plan (file:line:column), unreadable or
     foreign baseline, unwritable --out or --report-dir (found before any load is sent)
  3  the run failed or could not be judged: target unreachable, too many errors,
     interrupted (the partial result is still written, marked incomplete), too few samples,
     inconclusive, nothing judged`,
	"check": `Exit status:
  0  every minimum and regression objective passed
  1  an objective failed: the diff report says which, and by how much
  2  bad usage or bad input: no RESULT, invalid plan (file:line:column), unreadable or
     foreign result, a result of another workload than the plan's
  3  the result could not be judged: an incomplete run, too few samples, inconclusive,
     nothing judged`,
	"validate": `Exit status:
  0  the plan is valid (warnings are printed and do not fail it)
  2  bad usage, or an invalid plan: every error is printed with file:line:column`,
	"compare": `Exit status:
  0  the diff was printed (compare judges nothing)
  2  bad usage or bad input: unreadable or foreign results, results of different
     workloads, a shard's result`,
	"report": `Exit status:
  0  the reports were written
  2  bad usage or bad input: no --report-dir, unreadable or foreign result, an unwritable
     directory
  3  a report could not be written`,
	"promote": `Exit status:
  0  printed (without --write) or written (with --write), whether or not a bar moved
  2  bad usage or bad input: invalid plan, unreadable or foreign results, results of
     another workload or of the same run twice, a plan that changed while promote ran`,
	"version": `Exit status:
  0  always`,
	"history add": `Exit status:
  0  the run was added
  2  bad usage or bad input: no --store, an unreadable or foreign result, a shard's or an
     incomplete result
  3  the history could not be written`,
	"plan": `Exit status:
  0  the help was printed
  2  bad usage: a command plan does not have`,
	"history": `Exit status:
  0  the help was printed
  2  bad usage: a command history does not have`,
	"history show": `Exit status:
  0  the trends were printed (and written with --html)
  2  bad usage or bad input: no --store, an unreadable history or one with no runs
  3  the page could not be written`,
}

// describe gives every command of root a description with its exit-code
// table, and makes each command's argument errors say what is missing and
// print the command's usage.
func describe(root *cobra.Command) {
	for _, cmd := range root.Commands() {
		describe(cmd)
		if cmd.Long == "" {
			cmd.Long = strings.ToUpper(cmd.Short[:1]) + cmd.Short[1:] + "."
		}
		if table, ok := exitStatus[strings.TrimPrefix(cmd.CommandPath(), "tailgate ")]; ok && !strings.Contains(cmd.Long, "Exit status") {
			cmd.Long += "\n\n" + table
		}
		if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
			// A group (plan, history) prints its help when called alone;
			// an unknown command below it is bad usage, not help.
			cmd.Args = cobra.NoArgs
			cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		if cmd.Args != nil {
			cmd.Args = withUsage(cmd.Args)
		}
	}
}

// withUsage wraps an argument check: its error is bad usage and carries the
// command's usage. A plan file given as an argument to a command that reads
// it from -c, the commonest slip, is answered first, with the command line
// that would read it.
func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		err := planAsArgument(cmd, args)
		if err == nil {
			err = check(cmd, args)
		}
		if err != nil {
			return usageError(fmt.Errorf("%w\n\n%s", err, strings.TrimRight(cmd.UsageString(), "\n")))
		}
		return nil
	}
}

// planAsArgument is an error when args hold a plan file (named .yaml or
// .yml) and cmd reads its plan from -c, which is not given.
func planAsArgument(cmd *cobra.Command, args []string) error {
	if f := cmd.Flags().Lookup("config"); f == nil || f.Changed {
		return nil
	}
	for i, a := range args {
		if ext := strings.ToLower(filepath.Ext(a)); ext != ".yaml" && ext != ".yml" {
			continue
		}
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		line := strings.Join(append([]string{cmd.CommandPath(), "-c", a}, rest...), " ")
		return fmt.Errorf("%s reads its plan from -c, and %q is given as an argument: %s", cmd.Name(), a, line)
	}
	return nil
}

// noArgs is the argument check of a command that takes none.
var noArgs = needArgs(0, 0, "no arguments")

// needArgs is a command's argument check that names what is missing:
// "check needs RESULT: the result file to judge". max < 0 is no upper
// bound.
func needArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return fmt.Errorf("%s needs %s", cmd.Name(), what)
		case max >= 0 && len(args) > max:
			return fmt.Errorf("%s takes %s, and %q is one argument too many", cmd.Name(), what, args[max])
		}
		return nil
	}
}

// flagError rewrites pflag's message for a value that does not parse, which
// quotes strconv ("strconv.ParseInt: parsing \"abc\": invalid syntax"), into
// tailgate's: invalid --seed "abc": not an integer.
func flagError(err error) error {
	var invalid *pflag.InvalidValueError
	if !errors.As(err, &invalid) {
		return usageError(err)
	}
	f := invalid.GetFlag()
	why := "not a valid " + f.Value.Type()
	switch f.Value.Type() {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
		why = "not an integer"
		if errors.Is(err, strconv.ErrRange) {
			why = "out of range"
		}
	case "float32", "float64":
		why = "not a number"
	case "bool":
		why = "not true or false"
	case "duration":
		why = "not a duration (e.g. 30s, 5m)"
	}
	return usageError(fmt.Errorf("invalid --%s %q: %s", f.Name, invalid.GetValue(), why))
}
