// Package workloads is tailgate's load engine and the interface its drivers
// implement: it turns a component of a plan (package slo) into load and
// measures it.
//
// A Spec is everything the engine needs to load one component. Run paces the
// seeded operation sequence open-loop (each operation has an intended start,
// and its latency is measured from it, so a stalled target cannot hide its
// queue), spreads it over one worker per connection, records every
// operation into per-worker HDR histograms without locks on the hot path,
// watches the error share and stops a run its target cannot sustain, probes
// the runner while load runs, and builds the result (package result) from
// what it collected. RunInterleaved alternates a candidate and a live
// baseline in ABBA segments; RunAdaptive extends a run while a verdict is
// inconclusive.
//
// Each of those pieces has a file: pacing.go (the measured window and the
// pacer handing out intended starts), worker.go (one sender per connection;
// pipeline.go for pipelined ones), collect.go (the record the workers'
// interval slices are merged into), monitor.go (progress and the abort
// check), build.go (the result). Every read of the time and every wait goes
// through a Clock (Options.Clock, RealClock by default), so tests can drive
// a whole run in simulated time.
//
// Drivers live in the subpackages, one per protocol (redis, memcache, grpc,
// http): each implements Driver and Conn and registers an Opener for its URL
// schemes with Register, from init. The engine never judges: the result it
// returns is judged by package gate.
package workloads
