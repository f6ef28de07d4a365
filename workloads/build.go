package workloads

import (
	"fmt"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// buildResult is the result of a finished load: each component's record as
// the result file holds it, start and end being when the load began and
// stopped.
func buildResult(runs []*componentRun, start, end time.Time, tool string) *result.Result {
	res := &result.Result{Schema: result.Schema, Tool: tool, Complete: true, StartedAt: start.UTC(), Verdict: status.VerdictPass}
	for _, c := range runs {
		spec, r := c.spec, c.rec
		res.Seed = spec.Seed
		res.WarmupNS = spec.Warmup.Nanoseconds()
		if spec.Shard.Count > 1 {
			sh := spec.Shard
			res.Shard = &sh
		}
		res.IntervalNS = c.win.interval.Nanoseconds()
		res.MeasuredStart = start.Add(spec.Warmup).UTC()
		res.DurationNS = max(res.DurationNS, spec.Duration.Nanoseconds())
		window := min(spec.Duration, max(end.Sub(start.Add(spec.Warmup)), 0))
		res.MeasuredNS = max(res.MeasuredNS, window.Nanoseconds())
		id := spec.Identity()
		proto, _ := slo.Protocol(spec.Component.Target)
		cr := result.ComponentResult{
			Name: spec.Component.Name, Target: c.driver.Describe(), Protocol: proto,
			Embedded:  spec.Component.Target == "embedded:redis",
			AskedRate: spec.rate(), WorkloadHash: id.Hash(), Workload: id,
			WarmupOperations: r.warmupOps, WarmupErrors: r.warmupErrors,
			Objectives: []status.ObjectiveResult{},
		}
		if spec.Component.Workload.TLS.InsecureSkipVerify || strings.Contains(spec.Component.Target, "skip_verify=true") {
			cr.Insecure = true
			res.Warnings = append(res.Warnings, fmt.Sprintf("component %q: TLS certificate checks were off (insecure_skip_verify): the target's identity was not verified", cr.Name))
		}
		cr.FirstErrors = c.errs.samples()
		shares := spec.shares()
		all := result.OperationResult{Name: slo.AllOperations, AskedRate: spec.rate(), ErrorKinds: map[string]int64{}}
		// With one kind of operation, all is that operation histogram for
		// histogram, and takes its figures rather than merge, read and
		// encode copies of its histograms again (under -race, about half
		// of building a short segment's result): its whole-run ones
		// (latenciesOf) and its intervals' client delays.
		single := len(c.ops) == 1
		nIvals := 0
		var anyClient bool
		for k, name := range c.ops {
			op := result.OperationResult{
				Name: name, Count: r.whole[k].TotalCount(), Errors: r.errors[k], Late: r.late[k], ClientUnsent: r.clientUnsent[k],
				Hits: r.hits[k], Misses: r.misses[k], Messages: r.messages[k],
				LatencyNS: result.PercentilesOf(r.whole[k]), ServiceNS: result.PercentilesOf(r.service[k]),
				Histogram: result.EncodeHistogram(r.whole[k]), ServiceHistogram: result.EncodeHistogram(r.service[k]),
			}
			op.SetClientDelay(r.client[k], r.lessClient[k])
			op.SetFirstMessage(r.first[k])
			op.AskedRate = spec.rate() * shares[k]
			if len(r.kinds[k]) > 0 {
				op.ErrorKinds = r.kinds[k]
			}
			if window > 0 {
				op.AchievedRate = float64(op.Count) / window.Seconds()
			}
			nIvals = max(nIvals, len(r.ivals[k]))
			withClient := r.client[k].TotalCount() > 0
			anyClient = anyClient || withClient
			for i, iv := range r.ivals[k] {
				if iv.hist == nil {
					iv.hist = result.NewPackedHistogram()
				}
				ri := result.Interval{
					OffsetNS: int64(i) * c.win.interval.Nanoseconds(), Count: iv.hist.TotalCount(),
					Errors: iv.errors, Histogram: result.EncodePacked(iv.hist),
				}
				if withClient {
					// An interval with no success has an empty one where
					// its operation has client delays at all, so every
					// interval carries one; a closed-loop run has none.
					ri.ClientDelayHistogram, ri.LatencyLessClientHistogram = result.EncodedEmpty(), result.EncodedEmpty()
					if iv.client != nil {
						ri.ClientDelayHistogram, ri.LatencyLessClientHistogram = result.EncodePacked(iv.client), result.EncodePacked(iv.lessClient)
					}
				}
				op.Intervals = append(op.Intervals, ri)
			}
			if op.Intervals == nil {
				op.Intervals = []result.Interval{}
			}
			all.AddCounts(&op)
			cr.Operations = append(cr.Operations, op)
		}
		if single {
			latenciesOf(&all, &cr.Operations[0])
		} else {
			mergedLatencies(&all, r)
		}
		if window > 0 {
			all.AchievedRate = float64(all.Count) / window.Seconds()
		}
		// One interval of all operations at a time, in one scratch
		// histogram (and one each for the client delays and latencies
		// less them): memory stays flat
		// however long the soak.
		all.Intervals = make([]result.Interval, 0, nIvals)
		scratch, clientScratch, lessScratch := result.NewHistogram(), result.NewPackedHistogram(), result.NewPackedHistogram()
		for i := range nIvals {
			scratch.Reset()
			clientScratch.Reset()
			lessScratch.Reset()
			var errs int64
			for k := range c.ops {
				if i < len(r.ivals[k]) {
					iv := r.ivals[k][i]
					if iv.hist != nil {
						iv.hist.MergeInto(scratch)
					}
					if iv.client != nil && !single {
						clientScratch.Merge(iv.client)
						lessScratch.Merge(iv.lessClient)
					}
					errs += iv.errors
				}
			}
			ri := result.Interval{
				OffsetNS: int64(i) * c.win.interval.Nanoseconds(), Count: scratch.TotalCount(),
				Errors: errs, Histogram: result.EncodeHistogram(scratch),
			}
			switch {
			case single:
				// The one operation's, as its whole-run histograms are.
				ri.ClientDelayHistogram = cr.Operations[0].Intervals[i].ClientDelayHistogram
				ri.LatencyLessClientHistogram = cr.Operations[0].Intervals[i].LatencyLessClientHistogram
			case anyClient:
				ri.ClientDelayHistogram, ri.LatencyLessClientHistogram = result.EncodePacked(clientScratch), result.EncodePacked(lessScratch)
			}
			all.Intervals = append(all.Intervals, ri)
		}
		if len(all.ErrorKinds) == 0 {
			all.ErrorKinds = nil
		}
		if r.stages != nil {
			kinds := make([]int, len(c.ops))
			for k := range kinds {
				cr.Operations[k].Stages = stageResults(c, []int{k}, shares[k])
				kinds[k] = k
			}
			all.Stages = stageResults(c, kinds, 1)
		}
		cr.Operations = append(cr.Operations, all)
		cr.Nodes = nodeResults(c, window)
		res.Components = append(res.Components, cr)
	}
	res.PlanHash = result.PlanHashOf(res)
	return res
}

// stageResults is the record of each stage of the given operation kinds
// together; share is their part of the asked rate.
func stageResults(c *componentRun, kinds []int, share float64) []result.StageResult {
	stages := c.spec.Component.Workload.Stages
	shards := float64(max(c.spec.Shard.Count, 1))
	out := make([]result.StageResult, len(stages))
	h, client, lessClient := result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
	for i, st := range stages {
		h.Reset()
		client.Reset()
		lessClient.Reset()
		s := result.StageResult{
			Index: i + 1, Rate: st.Rate, StartRate: slo.StartRate(stages, i), Ramp: string(st.Ramp),
			StartNS: c.win.stageStart(i).Sub(c.win.measStart).Nanoseconds(),
			EndNS:   c.win.stageEnds[i].Sub(c.win.measStart).Nanoseconds(),
		}
		s.AskedRate = (s.StartRate + s.Rate) / 2 / shards * share
		for _, k := range kinds {
			agg := &c.rec.stages[k][i]
			agg.hist.MergeInto(h)
			agg.client.MergeInto(client)
			agg.lessClient.MergeInto(lessClient)
			s.Errors += agg.errors
			s.Hits += agg.hits
			s.Misses += agg.misses
		}
		s.Count, s.LatencyNS, s.Histogram = h.TotalCount(), result.PercentilesOf(h), result.EncodeHistogram(h)
		// Client delays come with every success of an open-loop run, and
		// with none of a closed-loop one.
		if n := client.TotalCount(); n > 0 && n == s.Count {
			s.ClientDelayHistogram, s.LatencyLessClientHistogram = result.EncodeHistogram(client), result.EncodeHistogram(lessClient)
		}
		if l := s.Length(); l > 0 {
			s.AchievedRate = float64(s.Count) / l.Seconds()
		}
		out[i] = s
	}
	return out
}

// mergedLatencies gives all the whole-run histograms of every operation
// kind of r merged, and their percentiles.
func mergedLatencies(all *result.OperationResult, r *record) {
	allHist, allService, allClient, allLessClient := result.NewHistogram(), result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
	allFirst := result.NewHistogram()
	for k := range r.whole {
		allHist.Merge(r.whole[k])
		allService.Merge(r.service[k])
		allClient.Merge(r.client[k])
		allLessClient.Merge(r.lessClient[k])
		if r.first[k] != nil {
			allFirst.Merge(r.first[k])
		}
	}
	all.LatencyNS, all.ServiceNS = result.PercentilesOf(allHist), result.PercentilesOf(allService)
	all.Histogram, all.ServiceHistogram = result.EncodeHistogram(allHist), result.EncodeHistogram(allService)
	all.SetClientDelay(allClient, allLessClient)
	all.SetFirstMessage(allFirst)
}

// latenciesOf gives dst the whole-run histograms of src and their
// percentiles: latency, service time, client delay, latency less client
// delay and first message, each percentile set its own copy.
func latenciesOf(dst, src *result.OperationResult) {
	dst.LatencyNS, dst.ServiceNS = src.LatencyNS, src.ServiceNS
	dst.Histogram, dst.ServiceHistogram = src.Histogram, src.ServiceHistogram
	own := func(p *result.Percentiles) *result.Percentiles {
		if p == nil {
			return nil
		}
		c := *p
		return &c
	}
	dst.ClientDelayNS, dst.ClientDelayHistogram = own(src.ClientDelayNS), src.ClientDelayHistogram
	dst.LatencyLessClientNS, dst.LatencyLessClientHistogram = own(src.LatencyLessClientNS), src.LatencyLessClientHistogram
	dst.FirstMessageNS, dst.FirstMessageHistogram = own(src.FirstMessageNS), src.FirstMessageHistogram
}

// nodeResults is the record of each node of a NodeReporter's component,
// in the driver's order; nil for a driver of one server.
func nodeResults(c *componentRun, window time.Duration) []result.NodeResult {
	nr, ok := c.driver.(NodeReporter)
	if !ok {
		return nil
	}
	names := nr.Nodes()
	out := make([]result.NodeResult, 0, len(names))
	for i, name := range names {
		n := result.NodeResult{Address: name}
		h := result.NewHistogram()
		if i < len(c.rec.nodes) {
			rec := &c.rec.nodes[i]
			h = rec.latency
			n.Errors, n.ErrorKinds = rec.errors, rec.kinds
		}
		n.Count = h.TotalCount()
		n.LatencyNS, n.Histogram = result.PercentilesOf(h), result.EncodeHistogram(h)
		if window > 0 {
			n.AchievedRate = float64(n.Count) / window.Seconds()
		}
		out = append(out, n)
	}
	return out
}

// NotRunResult is the result of a run that stopped before it measured
// anything (a target unreachable, an interrupt while connecting): every
// component and operation of the specs, with nothing counted, marked
// incomplete with the reason, so the run still leaves a result and reports
// that say what happened. Targets and the reason are redacted.
func NotRunResult(specs []*Spec, start time.Time, reason, tool string) *result.Result {
	res := &result.Result{Schema: result.Schema, Tool: tool, Complete: false, StartedAt: start.UTC(), Verdict: status.VerdictError}
	empty := result.EncodeHistogram(result.NewHistogram())
	for _, spec := range specs {
		res.Seed = spec.Seed
		res.WarmupNS = spec.Warmup.Nanoseconds()
		res.DurationNS = max(res.DurationNS, spec.Duration.Nanoseconds())
		res.IntervalNS = spec.interval().Nanoseconds()
		if spec.Shard.Count > 1 {
			sh := spec.Shard
			res.Shard = &sh
		}
		reason = Redact(reason, append(slo.TargetSecrets(spec.Component.Target), spec.Secrets...))
		id := spec.Identity()
		proto, _ := slo.Protocol(spec.Component.Target)
		cr := result.ComponentResult{
			Name: spec.Component.Name, Target: withoutUserinfo(spec.Component.Target, spec.Secrets), Protocol: proto,
			Embedded:  spec.Component.Target == "embedded:redis",
			AskedRate: spec.rate(), WorkloadHash: id.Hash(), Workload: id, Objectives: []status.ObjectiveResult{},
		}
		shares := spec.shares()
		for k, name := range spec.Operations() {
			cr.Operations = append(cr.Operations, result.OperationResult{Name: name, AskedRate: spec.rate() * shares[k], Histogram: empty, ServiceHistogram: empty})
		}
		cr.Operations = append(cr.Operations, result.OperationResult{Name: slo.AllOperations, AskedRate: spec.rate(), Histogram: empty, ServiceHistogram: empty})
		res.Components = append(res.Components, cr)
	}
	res.Incomplete = reason
	return res
}

// withoutUserinfo is a target URL as a result may show it: with no userinfo
// at all (a user alone may be a token), and every secret redacted.
func withoutUserinfo(target string, secrets []string) string {
	if u, err := slo.ParseTarget(target); err == nil && u.User != nil {
		u.User = nil
		target = u.String()
	}
	return Redact(target, secrets)
}
