// Command tailgate is a performance-qualification gate for CI/CD pipelines:
// it drives a fixed, seeded soak workload against a deployment, records every
// latency in HDR histograms, judges the tails against per-component SLOs and
// exits non-zero when a bar is missed. See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "\ntailgate: %s: stopping load and writing a partial result (again to quit at once)\n", sig)
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "tailgate: second signal: exiting now")
		os.Exit(130)
	}()
	env := environment{
		stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, lookupEnv: os.LookupEnv,
		terminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	os.Exit(run(ctx, os.Args[1:], env))
}
