package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// RequestSpec is a small workload of an HTTP or gRPC component: the given
// requests (weight 1 where none is set) against target at 200 operations a
// second over 2 connections for one second, with 1 s timeouts.
func RequestSpec(component, target string, requests ...slo.Request) *workloads.Spec {
	for i := range requests {
		if requests[i].Weight == 0 {
			requests[i].Weight = 1
		}
	}
	return &workloads.Spec{
		Component: slo.Component{
			Name:   component,
			Target: target,
			Workload: slo.Workload{
				Rate:         200,
				Arrival:      slo.ArrivalUniform,
				Connections:  2,
				Timeout:      time.Second,
				Keys:         slo.Keys{Count: 100, Distribution: slo.DistributionUniform, Prefix: "tailgate:"},
				Requests:     requests,
				MaxErrorRate: 0.5,
			},
		},
		Duration: time.Second,
		Seed:     1,
	}
}

// Dial opens the driver for spec and one connection of it, within 5 s, and
// returns the first error. What it opened is closed with the test; on an
// error of Open the driver is nil, and on one of Connect the connection.
func Dial(t testing.TB, spec *workloads.Spec) (workloads.Driver, workloads.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { d.Close() })
	c, err := d.Connect(ctx)
	if err != nil {
		return d, nil, err
	}
	t.Cleanup(func() { c.Close() })
	return d, c, nil
}

// Connect is Dial that fails the test on an error.
func Connect(t testing.TB, spec *workloads.Spec) (workloads.Driver, workloads.Conn) {
	t.Helper()
	d, c, err := Dial(t, spec)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return d, c
}

// DoOnce dials spec and sends one operation of its first kind, for the key
// "tailgate:1". It returns the driver (nil when Open failed) and the first
// error, so that a test can check how a target refuses.
func DoOnce(t testing.TB, spec *workloads.Spec) (workloads.Driver, error) {
	t.Helper()
	d, c, err := Dial(t, spec)
	if err != nil {
		return d, err
	}
	return d, c.Do(context.Background(), &workloads.Op{Kind: 0, Key: []byte("tailgate:1")})
}

// Run runs spec once, bounded at 30 s past its warmup and duration, fails
// the test on an error and returns the component's result.
func Run(t testing.TB, spec *workloads.Spec) *result.ComponentResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spec.Warmup+spec.Duration+30*time.Second)
	defer cancel()
	res, err := workloads.Run(ctx, []*workloads.Spec{spec}, workloads.Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	comp := res.Component(spec.Component.Name)
	if comp == nil {
		t.Fatalf("no result for component %q", spec.Component.Name)
	}
	return comp
}
