// Command tailgate is a performance-qualification gate for CI/CD pipelines:
// it drives a fixed, seeded soak workload against a deployment, records every
// latency in HDR histograms, judges the tails against per-component SLOs and
// exits non-zero when a bar is missed. See README.md for the commands.
//
// TAILGATE_CPUPROFILE=FILE in the environment writes a CPU profile of the
// whole command to FILE (for go tool pprof): how bench/run profiles the load
// generator. It is a developer's hook, not part of the CLI contract.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go handleSignals(signals, interruptNotice(os.Args[1:]), cancel, os.Exit, os.Stderr)
	env := environment{
		stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, lookupEnv: os.LookupEnv,
		terminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	stopProfile := startCPUProfile(os.Getenv("TAILGATE_CPUPROFILE"))
	code := run(ctx, os.Args[1:], env)
	stopProfile()
	os.Exit(code)
}

// startCPUProfile profiles the process into path, if set, until the
// returned function is called. A profile that cannot be written is reported
// and skipped: it never changes the command's outcome.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tailgate: TAILGATE_CPUPROFILE: %v\n", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// interruptNotice says what the command of args does when interrupted:
// run writes its partial result, capacity what its search found, canary
// drops the window under way (it writes no result), the others just stop.
func interruptNotice(args []string) string {
	for _, a := range args {
		switch a {
		case "run":
			return "stopping load and writing a partial result"
		case "canary":
			return "stopping the canary; the window under way is dropped, not judged"
		case "capacity":
			return "stopping the search and writing what it found, marked interrupted"
		}
		if !strings.HasPrefix(a, "-") {
			break
		}
	}
	return "stopping"
}

// handleSignals turns the first interrupt into an orderly stop (cancel: the
// command stops as notice says) and the second into an immediate exit with
// status 130.
func handleSignals(signals <-chan os.Signal, notice string, cancel func(), exit func(int), stderr io.Writer) {
	sig := <-signals
	fmt.Fprintf(stderr, "\ntailgate: %s: %s (again to quit at once)\n", sig, notice)
	cancel()
	<-signals
	fmt.Fprintln(stderr, "tailgate: second signal: exiting now")
	exit(130)
}
