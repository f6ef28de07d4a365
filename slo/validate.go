package slo

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The plan's limits. Each is generous for real use and small enough that a
// typo (an extra zero, ms for s) is caught rather than run for a day.
const (
	minDuration    = time.Second
	maxDuration    = 24 * time.Hour
	maxWarmup      = time.Hour
	maxConfirm     = 10
	minConfidence  = 0.50
	maxConfidence  = 0.999
	maxRate        = 1_000_000
	maxConnections = 4096
	maxStreams     = 1024
	// maxWorkers bounds connections × streams: the engine runs one worker
	// per stream.
	maxWorkers        = 65535
	minTimeout        = time.Millisecond
	maxTimeout        = 60 * time.Second
	maxKeyCount       = 1_000_000_000
	maxPrefixLen      = 128
	maxZipfS          = 10
	maxValueSize      = 16 << 20
	minTTL            = time.Second
	maxTTL            = 30 * 24 * time.Hour
	maxWeight         = 1_000_000
	maxBatch          = 100
	maxNameLen        = 63
	minRelativeChange = -1.0
	maxRelativeChange = 10.0
	maxCapacityProbes = 1000
	minProbeDuration  = 100 * time.Millisecond
)

var (
	// namePattern is the form of component and request names: safe in file
	// names, metric labels and environment variable names once upper-cased.
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	// grpcMethod is a full gRPC method name, package.Service/Method; the
	// package is optional, as it is in a .proto file.
	grpcMethod = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*/[A-Za-z_][A-Za-z0-9_]*$`)
	// headerToken is an HTTP header field name (RFC 9110 token).
	headerToken = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// compressions are the codecs workload.compression may name.
var compressions = []string{"gzip"}

// httpMethods are the methods an HTTP request may use.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Validate checks a plan against every rule Parse applies, including sample
// sufficiency at Defaults.Duration; use it on plans built or changed in
// code. Errors point at the Pos fields the plan holds.
func (p *Plan) Validate() error {
	v := newValidator(p.File, nil)
	v.plan(p)
	errs := v.errs
	if validDuration(p.Defaults.Duration) {
		errs = append(errs, p.SampleErrors(p.Defaults.Duration)...)
	}
	return errs.sorted().err()
}

// validDuration reports whether d is an acceptable soak length.
func validDuration(d time.Duration) bool {
	return minDuration <= d && d <= maxDuration
}

// validator checks decoded values against the plan's rules. The same rules
// serve Parse, which knows where every value came from, and Validate, which
// falls back to the positions the plan records.
type validator struct {
	file    string
	origins map[any]origin
	// component names the component being checked, for messages.
	component string
	errs      Errors
	// duration is the plan's measured length, when valid; 0 otherwise.
	duration time.Duration
	// defaults are the plan's, for the rules of a component that depend
	// on them (workload.stages).
	defaults Defaults
}

// newValidator returns a validator; origins may be nil.
func newValidator(file string, origins map[any]origin) *validator {
	return &validator{file: file, origins: origins}
}

// errorf reports a problem at pos.
func (v *validator) errorf(pos Position, format string, args ...any) {
	v.errs = append(v.errs, &Error{
		File: v.file, Line: pos.Line, Column: pos.Column,
		Component: v.component, Msg: fmt.Sprintf(format, args...),
	})
}

// place returns where the value at key came from (fallback when unknown)
// and its text as written (shown when unknown); skip is true when decoding
// it already failed and was reported.
func (v *validator) place(key any, fallback Position, shown string) (pos Position, raw string, skip bool) {
	o, ok := v.origins[key]
	if !ok {
		return fallback, shown, false
	}
	return o.pos, o.raw, o.bad
}

// check reports `what "value" rule` at the value's place unless ok.
func (v *validator) check(key any, fallback Position, ok bool, what, shown, rule string) {
	if ok {
		return
	}
	pos, raw, skip := v.place(key, fallback, shown)
	if !skip {
		v.errorf(pos, "%s %q %s", what, clip(raw), rule)
	}
}

// skipped reports whether decoding the value at key failed.
func (v *validator) skipped(key any) bool {
	return v.origins[key].bad
}

// plan checks the whole plan.
func (v *validator) plan(p *Plan) {
	v.check(&p.Version, Position{}, p.Version == 1, "version", strconv.Itoa(p.Version), "is not supported; the only plan version is 1")
	d := &p.Defaults
	v.defaults = *d
	if validDuration(d.Duration) && !v.skipped(&d.Duration) {
		v.duration = d.Duration
	}
	v.check(&d.Duration, Position{}, validDuration(d.Duration), "defaults.duration", FormatDuration(d.Duration),
		"is out of range: must be between 1s and 24h")
	v.check(&d.Warmup, Position{}, 0 <= d.Warmup && d.Warmup <= maxWarmup, "defaults.warmup", FormatDuration(d.Warmup),
		"is out of range: must be between 0 and 1h")
	v.check(&d.Confirm, Position{}, 0 <= d.Confirm && d.Confirm <= maxConfirm, "defaults.confirm", strconv.Itoa(d.Confirm),
		"is out of range: must be 0 (off) to 10 reruns")
	v.check(&d.Confidence, Position{}, minConfidence <= d.Confidence && d.Confidence <= maxConfidence, "defaults.confidence", FormatPercent(d.Confidence),
		"is out of range: must be between 50% and 99.9%")
	if d.Adaptive.MaxDuration != 0 || v.origins[&d.Adaptive.MaxDuration].pos != (Position{}) {
		v.check(&d.Adaptive.MaxDuration, Position{}, validDuration(d.Adaptive.MaxDuration), "defaults.adaptive.max_duration", FormatDuration(d.Adaptive.MaxDuration),
			"is out of range: must be between 1s and 24h")
		if validDuration(d.Adaptive.MaxDuration) && validDuration(d.Duration) && !v.skipped(&d.Duration) {
			v.check(&d.Adaptive.MaxDuration, Position{}, d.Adaptive.MaxDuration >= d.Duration, "defaults.adaptive.max_duration", FormatDuration(d.Adaptive.MaxDuration),
				fmt.Sprintf("is shorter than defaults.duration %s: a run extends from its duration up to max_duration", FormatDuration(d.Duration)))
		}
	}
	v.check(&d.Inconclusive, Position{}, d.Inconclusive == InconclusiveError || d.Inconclusive == InconclusiveFail || d.Inconclusive == InconclusivePass,
		"defaults.inconclusive", string(d.Inconclusive), "is not supported; allowed: error, fail, pass")

	if len(p.Components) == 0 && !v.skipped(&p.Components) {
		pos, _, _ := v.place(&p.Components, Position{}, "")
		v.errorf(pos, "components is empty: a plan needs at least one component")
	}
	seen := make(map[string]Position)
	for i := range p.Components {
		c := &p.Components[i]
		if v.skipped(c) {
			continue
		}
		pos, _, skip := v.place(&c.Name, c.Pos, c.Name)
		if first, dup := seen[c.Name]; dup && !skip && c.Name != "" {
			v.component = ""
			v.errorf(pos, "component name %q is already used at line %d; names must be unique", clip(c.Name), first.Line)
		} else {
			seen[c.Name] = pos
		}
		v.componentRules(c)
	}
	v.component = ""
}

// componentRules checks one component.
func (v *validator) componentRules(c *Component) {
	v.component = c.Name
	v.name(&c.Name, c.Pos, "name")
	protoKnown := v.target(c)
	w := &c.Workload
	if w.Stages == nil {
		v.check(&w.Rate, c.Pos, 0 <= w.Rate && w.Rate <= maxRate, "workload.rate", formatNumber(w.Rate),
			"is out of range: must be 0 (closed loop) to 1000000 operations per second")
	} else {
		v.stages(c)
	}
	v.check(&w.Arrival, c.Pos, w.Arrival == ArrivalPoisson || w.Arrival == ArrivalUniform, "workload.arrival", string(w.Arrival),
		"is not supported; allowed: poisson, uniform")
	v.check(&w.Connections, c.Pos, 1 <= w.Connections && w.Connections <= maxConnections, "workload.connections", strconv.Itoa(w.Connections),
		"is out of range: must be 1 to 4096")
	// Left out (0) is one stream; a plan that writes 0 is wrong.
	_, written := v.origins[&w.Streams]
	v.check(&w.Streams, c.Pos, 1 <= w.Streams && w.Streams <= maxStreams || w.Streams == 0 && !written, "workload.streams", strconv.Itoa(w.Streams),
		"is out of range: must be 1 to 1024")
	if 1 <= w.Streams && w.Streams <= maxStreams && 1 <= w.Connections && w.Connections <= maxConnections && w.Connections*w.Streams > maxWorkers {
		pos, _, _ := v.place(&w.Streams, c.Pos, "")
		v.errorf(pos, "workload.connections × workload.streams is %d: at most 65535 operations can be in flight at once", w.Connections*w.Streams)
	}
	v.check(&w.Timeout, c.Pos, minTimeout <= w.Timeout && w.Timeout <= maxTimeout, "workload.timeout", FormatDuration(w.Timeout),
		"is out of range: must be between 1ms and 60s")
	k := &w.Keys
	v.check(&k.Count, c.Pos, 1 <= k.Count && k.Count <= maxKeyCount, "workload.keys.count", strconv.Itoa(k.Count),
		"is out of range: must be 1 to 1000000000")
	v.check(&k.Distribution, c.Pos, k.Distribution == DistributionUniform || k.Distribution == DistributionZipf, "workload.keys.distribution", string(k.Distribution),
		"is not supported; allowed: uniform, zipf")
	v.check(&k.Prefix, c.Pos, k.Prefix != "" && len(k.Prefix) <= maxPrefixLen, "workload.keys.prefix", k.Prefix,
		"must be 1 to 128 bytes: tailgate only touches keys under its prefix, so it cannot be empty")
	v.check(&k.ZipfS, c.Pos, 1 < k.ZipfS && k.ZipfS <= maxZipfS, "workload.keys.zipf_s", formatNumber(k.ZipfS),
		"is out of range: must be more than 1 and at most 10")
	if w.Values == nil {
		v.check(&w.ValueSize, c.Pos, 0 <= w.ValueSize && w.ValueSize <= maxValueSize, "workload.value_size", strconv.Itoa(w.ValueSize),
			"is out of range: must be 0 to 16777216 bytes (16 MiB)")
	} else {
		v.values(c, w.Values)
	}
	v.keyValueKeys(c)
	if t := &w.TLS; (t.CertFile == "") != (t.KeyFile == "") && !v.skipped(&t.CertFile) && !v.skipped(&t.KeyFile) {
		v.errorf(c.Pos, "workload.tls needs cert_file and key_file together: the client certificate and its private key")
	}
	v.check(&w.MaxErrorRate, c.Pos, 0 <= w.MaxErrorRate && w.MaxErrorRate <= 1, "workload.max_error_rate", FormatPercent(w.MaxErrorRate),
		"is out of range: must be between 0% and 100%")
	v.mix(c)
	v.requests(c)
	opsKnown := protoKnown && !v.skipped(&w.Mix) && !v.skipped(&w.Requests)
	v.objectives(c, TierMinimum, c.SLO.Minimum, opsKnown)
	v.objectives(c, TierAspirational, c.SLO.Aspirational, opsKnown)
	v.objectives(c, TierRegression, c.SLO.Regression, opsKnown)
	v.objectives(c, TierTrend, c.SLO.Trend, opsKnown)
	v.capacity(c)
}

// capacity checks the capacity block's values as written; a value left
// out (zero, in a plan built in code) takes its default.
func (v *validator) capacity(c *Component) {
	k := &c.Capacity
	rate := func(key *float64, what string) {
		if *key != 0 || v.written(key) {
			v.check(key, c.Pos, 0 < *key && *key <= maxRate, what, formatNumber(*key), "is out of range: must be more than 0 and at most 1000000 operations per second")
		}
	}
	rate(&k.MinRate, "capacity.min_rate")
	rate(&k.MaxRate, "capacity.max_rate")
	if k.MinRate > 0 && k.MaxRate > 0 && !v.skipped(&k.MinRate) && !v.skipped(&k.MaxRate) {
		v.check(&k.MaxRate, c.Pos, k.MaxRate >= k.MinRate, "capacity.max_rate", formatNumber(k.MaxRate), fmt.Sprintf("is below capacity.min_rate %s", formatNumber(k.MinRate)))
	}
	if k.Precision != 0 || v.written(&k.Precision) {
		v.check(&k.Precision, c.Pos, 0.001 <= k.Precision && k.Precision <= 1, "capacity.precision", FormatPercent(k.Precision), "is out of range: must be between 0.1% and 100%")
	}
	if k.MaxProbes != 0 || v.written(&k.MaxProbes) {
		v.check(&k.MaxProbes, c.Pos, 1 <= k.MaxProbes && k.MaxProbes <= maxCapacityProbes, "capacity.max_probes", strconv.Itoa(k.MaxProbes), "is out of range: must be 1 to 1000")
	}
	if k.MaxDuration != 0 || v.written(&k.MaxDuration) {
		v.check(&k.MaxDuration, c.Pos, validDuration(k.MaxDuration), "capacity.max_duration", FormatDuration(k.MaxDuration), "is out of range: must be between 1s and 24h")
	}
	if k.ProbeDuration != 0 || v.written(&k.ProbeDuration) {
		v.check(&k.ProbeDuration, c.Pos, minProbeDuration <= k.ProbeDuration && k.ProbeDuration <= maxWarmup, "capacity.probe_duration", FormatDuration(k.ProbeDuration), "is out of range: must be between 100ms and 1h")
	}
	v.check(&k.ProbeWarmup, c.Pos, 0 <= k.ProbeWarmup && k.ProbeWarmup <= maxWarmup, "capacity.probe_warmup", FormatDuration(k.ProbeWarmup), "is out of range: must be between 0 and 1h")
}

// capacityObjective checks a capacity objective: a rate bar in the
// minimum tier or a relative change in the regression tier, on all of the
// component's operations.
func (v *validator) capacityObjective(o *Objective, tier Tier, name, raw string) {
	switch {
	case tier != TierMinimum && tier != TierRegression:
		v.errorf(o.Pos, "%s: capacity is judged by tailgate capacity against a bar (minimum tier, such as 30000/s) or a baseline capacity file (regression tier, such as -5%%), not in the %s tier", name, tier)
	case o.Operation != AllOperations:
		pos, _, _ := v.place(&o.Operation, o.Pos, o.Operation)
		v.errorf(pos, "%s: capacity is the rate of all of a component's operations together: write it under all", name)
	case tier == TierRegression:
		if !(minRelativeChange <= o.Threshold.Ratio && o.Threshold.Ratio <= maxRelativeChange) {
			v.errorf(o.Pos, "%s %q is out of range: must be between -100%% and +1000%%", name, raw)
		}
	case !(0 < o.Threshold.Rate && o.Threshold.Rate <= maxRate):
		v.errorf(o.Pos, "%s %q is out of range: must be more than 0/s and at most 1000000/s", name, raw)
	}
}

// stages checks workload.stages: each stage's rate, duration and ramp, the
// stages' number and total length, and the settings they cannot go with.
func (v *validator) stages(c *Component) {
	w := &c.Workload
	pos, _, _ := v.place(&w.Stages, c.Pos, "")
	switch {
	case len(w.Stages) == 0:
		v.errorf(pos, "workload.stages is empty: list at least one {rate, duration}")
		return
	case len(w.Stages) > MaxStages:
		v.errorf(pos, "workload.stages has %d stages: at most %d", len(w.Stages), MaxStages)
		return
	}
	good := true
	for i := range w.Stages {
		st := &w.Stages[i]
		what := fmt.Sprintf("workload.stages: stage %d", i+1)
		if !(0 < st.Rate && st.Rate <= maxRate) {
			v.check(&st.Rate, st.Pos, false, what+" rate", formatNumber(st.Rate),
				"is out of range: must be more than 0 and at most 1000000 operations per second (a stage is open loop)")
			good = false
		}
		if !(0 < st.Duration && st.Duration <= maxDuration) {
			v.check(&st.Duration, st.Pos, false, what+" duration", FormatDuration(st.Duration), "is out of range: must be more than 0 and at most 24h")
			good = false
		}
		v.check(&st.Ramp, st.Pos, st.Ramp == RampNone || st.Ramp == RampLinear, what+" ramp", string(st.Ramp),
			"is not supported; allowed: linear (ramp from the previous stage's rate), or leave it out to hold the rate from the stage's start")
		if i == 0 && st.Ramp == RampLinear && v.defaults.Warmup > 0 {
			p, _, _ := v.place(&st.Ramp, st.Pos, "")
			v.errorf(p, "%s ramp \"linear\" ramps the first stage from 0, but warmup runs at the first stage's rate before it (defaults.warmup %s): set defaults.warmup: 0s, or start with a stage that holds a rate",
				what, FormatDuration(v.defaults.Warmup))
		}
	}
	if total := StagesDuration(w.Stages); good && !validDuration(total) {
		v.errorf(pos, "workload.stages last %s in all: the stages' total is the measured length, which must be between 1s and 24h", FormatDuration(total))
	}
	if v.defaults.Adaptive.Enabled() {
		v.errorf(pos, "workload.stages and defaults.adaptive cannot go together: an adaptive run extends its measured window, which the stages fix; remove one of them")
	}
}

// values checks the value_size mapping.
func (v *validator) values(c *Component, vs *Values) {
	v.check(&vs.Distribution, c.Pos, vs.Distribution == SizeFixed || vs.Distribution == SizeUniform || vs.Distribution == SizeZipf,
		"workload.value_size.distribution", string(vs.Distribution), "is not supported; allowed: fixed, uniform, zipf")
	v.check(&vs.Max, c.Pos, 1 <= vs.Max && vs.Max <= maxValueSize, "workload.value_size.max", strconv.Itoa(vs.Max),
		"is out of range: must be 1 to 16777216 bytes (16 MiB)")
	v.check(&vs.Min, c.Pos, 0 <= vs.Min && vs.Min <= maxValueSize, "workload.value_size.min", strconv.Itoa(vs.Min),
		"is out of range: must be 0 to 16777216 bytes (16 MiB)")
	if !v.skipped(&vs.Min) && !v.skipped(&vs.Max) && 0 <= vs.Min && vs.Max <= maxValueSize {
		v.check(&vs.Min, c.Pos, vs.Min <= vs.Max, "workload.value_size.min", strconv.Itoa(vs.Min),
			fmt.Sprintf("is more than max %d", vs.Max))
		if vs.Distribution == SizeFixed {
			v.check(&vs.Min, c.Pos, vs.Min == vs.Max, "workload.value_size.min", strconv.Itoa(vs.Min),
				fmt.Sprintf("differs from max %d: a fixed size writes max bytes every time; leave min out, or use uniform or zipf", vs.Max))
		}
	}
	v.check(&vs.Compressibility, c.Pos, 0 <= vs.Compressibility && vs.Compressibility <= 1, "workload.value_size.compressibility",
		FormatPercent(vs.Compressibility), "is out of range: must be between 0% and 100%")
}

// written reports whether the plan wrote the value at key (as opposed to
// a default), when the validator knows where values came from.
func (v *validator) written(key any) bool {
	_, ok := v.origins[key]
	return ok
}

// keyValueKeys checks pipeline, prefill, ttl and cleanup, and that only
// key-value targets use them and value_size as a mapping.
func (v *validator) keyValueKeys(c *Component) {
	w := &c.Workload
	if w.Pipeline != 0 || v.written(&w.Pipeline) {
		v.check(&w.Pipeline, c.Pos, 1 <= w.Pipeline && w.Pipeline <= MaxPipeline, "workload.pipeline", strconv.Itoa(w.Pipeline),
			fmt.Sprintf("is out of range: must be 1 (one operation at a time) to %d operations in flight per connection", MaxPipeline))
	}
	if w.Prefill.Rate != 0 || v.written(&w.Prefill.Rate) {
		v.check(&w.Prefill.Rate, c.Pos, 0 < w.Prefill.Rate && w.Prefill.Rate <= maxRate, "workload.prefill.rate", formatNumber(w.Prefill.Rate),
			"is out of range: must be more than 0 and at most 1000000 keys per second")
	}
	if w.TTL != 0 || v.written(&w.TTL) {
		v.check(&w.TTL, c.Pos, minTTL <= w.TTL && w.TTL <= maxTTL && w.TTL%time.Second == 0, "workload.ttl", FormatDuration(w.TTL),
			"must be whole seconds from 1s to 720h (30 days): Memcached counts expiry in seconds, and reads a longer one as a date")
	}
	proto, err := Protocol(c.Target)
	if err != nil || isKeyValue(proto) {
		return
	}
	notHere := func(key any, what string, used bool) {
		if !used {
			return
		}
		pos, _, _ := v.place(key, c.Pos, "")
		v.errorf(pos, "workload.%s is for key-value targets (Redis, Memcached); this is %s target", what, protocolPhrase(proto))
	}
	notHere(&w.Pipeline, "pipeline", w.Pipeline > 1)
	notHere(&w.Prefill.Enabled, "prefill", w.Prefill.Enabled)
	notHere(&w.TTL, "ttl", w.TTL != 0)
	notHere(&w.Cleanup, "cleanup", w.Cleanup)
	if w.Values != nil {
		notHere(w.Values, "value_size", true)
	}
}

// name checks a component or request name.
func (v *validator) name(key *string, fallback Position, what string) {
	name := *key
	if name == "" && !v.skipped(key) {
		pos, _, _ := v.place(key, fallback, "")
		v.errorf(pos, "%s is required", what)
		return
	}
	v.check(key, fallback, len(name) <= maxNameLen && namePattern.MatchString(name), what, name,
		`is not a valid name: use 1 to 63 of a-z, 0-9, "_", "." and "-", starting with a letter or digit`)
}

// target checks a component's target and that its workload fits the
// target's protocol: a mix for key-value stores, requests of the right
// shape for HTTP and gRPC. It reports whether the protocol is known.
func (v *validator) target(c *Component) bool {
	pos, raw, skip := v.place(&c.Target, c.TargetPos, c.Target)
	if skip {
		return false
	}
	proto, err := Protocol(c.Target)
	if err != nil {
		v.errorf(pos, "target %q: %v", clip(redactTarget(raw)), err)
		return false
	}
	w := &c.Workload
	if w.Protoset != "" && proto != ProtocolGRPC {
		pos, _, _ := v.place(&w.Protoset, c.Pos, "")
		v.errorf(pos, "workload.protoset is for gRPC targets; this is %s target", protocolPhrase(proto))
	}
	if w.Streams > 1 && proto != ProtocolHTTP && proto != ProtocolGRPC {
		pos, _, _ := v.place(&w.Streams, c.Pos, "")
		v.errorf(pos, "workload.streams is for HTTP/2 and gRPC targets, whose connections carry several operations at once; %s target takes one at a time per connection", protocolPhrase(proto))
	}
	v.protocol(c, proto)
	if w.Compression != "" {
		pos, _, _ := v.place(&w.Compression, c.Pos, "")
		switch {
		case proto != ProtocolGRPC:
			v.errorf(pos, "workload.compression is for gRPC targets; this is %s target", protocolPhrase(proto))
		case !contains(compressions, w.Compression):
			v.errorf(pos, "workload.compression %q is not supported; allowed: %s", clip(w.Compression), strings.Join(compressions, ", "))
		}
	}
	v.memcacheRules(c)
	if isKeyValue(proto) {
		if len(w.Requests) > 0 {
			pos, _, _ := v.place(&w.Requests, c.Pos, "")
			v.errorf(pos, "workload.requests are for HTTP and gRPC targets; %s target takes a mix of %s", protocolPhrase(proto), andList(mixOperations))
		}
		return true
	}
	if len(w.Mix) > 0 {
		pos, _, _ := v.place(&w.Mix, c.Pos, "")
		v.errorf(pos, "workload.mix is for key-value targets; %s target takes named requests", protocolPhrase(proto))
	}
	if len(w.Requests) == 0 && !v.skipped(&w.Requests) {
		pos, _, _ := v.place(&w.Requests, c.Pos, "")
		v.errorf(pos, "workload.requests is empty: %s target needs at least one request", protocolPhrase(proto))
	}
	for i := range w.Requests {
		r := &w.Requests[i]
		if v.skipped(r) {
			continue
		}
		what := requestWhat(r, i)
		switch proto {
		case ProtocolHTTP:
			v.check(&r.Method, r.Pos, contains(httpMethods, r.Method), what+" method", r.Method,
				"is not supported; allowed: "+strings.Join(httpMethods, ", "))
			v.check(&r.Path, r.Pos, strings.HasPrefix(r.Path, "/") && printable(r.Path), what+" path", r.Path,
				`must start with "/" and hold no spaces or control characters`)
		case ProtocolGRPC:
			rule := "must be a full gRPC method name, like helloworld.Greeter/SayHello"
			if strings.HasPrefix(r.Method, "/") {
				rule += ", without the leading /"
			}
			v.check(&r.Method, r.Pos, grpcMethod.MatchString(r.Method), what+" method", r.Method, rule)
			v.check(&r.Path, r.Pos, r.Path == "", what+" path", r.Path, "must be empty: a gRPC request names its method, not a path")
			v.check(&r.Messages, r.Pos, 0 <= r.Messages && r.Messages <= MaxMessages, what+" messages", strconv.Itoa(r.Messages),
				fmt.Sprintf("is out of range: a streaming call sends 1 to %d messages", MaxMessages))
		}
		if proto != ProtocolGRPC && r.Messages != 0 {
			pos, _, _ := v.place(&r.Messages, r.Pos, "")
			v.errorf(pos, "%s messages is for gRPC client-streaming and bidirectional methods; %s target sends one body per request", what, protocolPhrase(proto))
		}
	}
	return true
}

// protocol checks workload.protocol against the target: it is for HTTP
// targets, h2 needs TLS and h2c the clear, and streams need HTTP/2.
func (v *validator) protocol(c *Component, proto string) {
	w := &c.Workload
	pos, _, _ := v.place(&w.Protocol, c.Pos, "")
	switch {
	case proto == ProtocolMemcache:
		if w.Protocol != "" {
			v.check(&w.Protocol, c.Pos, w.Protocol == MemcacheText || w.Protocol == MemcacheMeta, "workload.protocol", string(w.Protocol),
				"is not supported by a Memcached target; allowed: text, meta")
		}
		return
	case proto != ProtocolHTTP:
		if w.Protocol != "" {
			v.errorf(pos, "workload.protocol is for HTTP targets (auto, http1, h2, h2c) and Memcached targets (text, meta); %s target has its own", protocolPhrase(proto))
		}
		return
	}
	tls := strings.HasPrefix(c.Target, "https:")
	switch w.Protocol {
	case "", HTTPAuto, HTTP1:
	case HTTP2:
		if !tls {
			v.errorf(pos, "workload.protocol %q is HTTP/2 over TLS and needs an https:// target; for HTTP/2 in the clear write %q", w.Protocol, HTTP2Cleartext)
		}
	case HTTP2Cleartext:
		if tls {
			v.errorf(pos, "workload.protocol %q is HTTP/2 in the clear and needs an http:// target; over TLS write %q", w.Protocol, HTTP2)
		}
	default:
		v.check(&w.Protocol, c.Pos, false, "workload.protocol", string(w.Protocol), "is not supported; allowed: auto, http1, h2, h2c")
	}
	if w.Streams > 1 && w.Protocol == HTTP1 {
		pos, _, _ := v.place(&w.Streams, c.Pos, "")
		v.errorf(pos, "workload.streams %d needs HTTP/2: HTTP/1.1 carries one request at a time per connection; raise workload.connections instead", w.Streams)
	}
}

// memcacheRules checks the workload key that only Memcached targets take:
// batch, the keys of each mget.
func (v *validator) memcacheRules(c *Component) {
	w := &c.Workload
	if w.Batch != 0 || v.origins[&w.Batch].pos != (Position{}) {
		v.check(&w.Batch, c.Pos, 1 <= w.Batch && w.Batch <= maxBatch, "workload.batch", strconv.Itoa(w.Batch),
			"is out of range: must be 1 to 100 keys per mget")
	}
}

// andList joins items as a sentence does: "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// protocolPhrase names a protocol with its article, for messages.
func protocolPhrase(proto string) string {
	switch proto {
	case ProtocolRedis:
		return "a Redis"
	case ProtocolMemcache:
		return "a Memcached"
	case ProtocolHTTP:
		return "an HTTP"
	case ProtocolGRPC:
		return "a gRPC"
	}
	return "a " + proto
}

// requestWhat names a request in messages.
func requestWhat(r *Request, index int) string {
	if r.Name == "" {
		return fmt.Sprintf("workload.requests[%d]", index)
	}
	return fmt.Sprintf("request %q", clip(r.Name))
}

// printable reports whether s has no spaces or control characters.
func printable(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// mix checks a key-value workload's operation weights.
func (v *validator) mix(c *Component) {
	w := &c.Workload
	if len(w.Mix) == 0 || v.skipped(&w.Mix) {
		return
	}
	// With a broken target (reported apart) the names cannot be checked.
	proto, err := Protocol(c.Target)
	known := err == nil
	allowed := MixOperations(proto)
	total := 0
	seen := make(map[string]bool)
	commands := 0
	for i := range w.Mix {
		m := &w.Mix[i]
		pos, _, _ := v.place(&m.Operation, c.Pos, m.Operation)
		cmd := w.Commands[m.Operation]
		if cmd != nil {
			commands++
			if commands == MaxCommands+1 {
				v.errorf(pos, "workload.mix has more than %d generic commands", MaxCommands)
			}
			v.mixCommand(m.Operation, cmd, pos, known, proto)
		}
		switch {
		case cmd == nil && known && !contains(allowed, m.Operation):
			v.errorf(pos, "workload.mix operation %q is not supported by %s target; allowed: %s", clip(m.Operation), protocolPhrase(proto), strings.Join(allowed, ", "))
		case seen[m.Operation]:
			v.errorf(pos, "workload.mix has operation %q twice", clip(m.Operation))
		}
		seen[m.Operation] = true
		v.check(&m.Weight, c.Pos, 0 <= m.Weight && m.Weight <= maxWeight, "workload.mix."+m.Operation, strconv.Itoa(m.Weight),
			"is out of range: a weight must be 0 to 1000000")
		if 0 < m.Weight && m.Weight <= maxWeight {
			total += m.Weight
		}
	}
	if total == 0 {
		pos, _, _ := v.place(&w.Mix, c.Pos, "")
		v.errorf(pos, "workload.mix weights add up to 0: at least one operation needs a positive weight")
	}
}

// mixCommand checks a mix entry of a generic command: its name, that
// the target is Redis, and the command itself (ParseCommand), which it
// fills in.
func (v *validator) mixCommand(op string, cmd *Command, pos Position, known bool, proto string) {
	what := "workload.mix." + clip(op)
	switch {
	case len(op) > maxNameLen || !namePattern.MatchString(op):
		v.errorf(pos, `%s: %q is not a valid operation name: use 1 to 63 of a-z, 0-9, "_", "." and "-", starting with a letter or digit`, what, clip(op))
	case op == AllOperations:
		v.errorf(pos, "%s: operation name %q is reserved: it stands for every operation of the component", what, op)
	case contains(redisOperations, op):
		v.errorf(pos, "%s: %q is the name of a built-in operation; name the command something else, such as %q", what, op, op+"_cmd")
	}
	if known && !isKeyValue(proto) {
		return // the mix itself is refused for this target
	}
	if known && proto != ProtocolRedis {
		v.errorf(pos, "%s: a generic command is for Redis targets; %s target takes the operations %s", what, protocolPhrase(proto), andList(MixOperations(proto)))
		return
	}
	cpos, raw, skip := v.place(cmd, pos, cmd.Text)
	if skip {
		return
	}
	parsed, err := ParseCommand(cmd.Text)
	if err != nil {
		v.errorf(cpos, "%s.command %q: %v", what, clip(raw), err)
		return
	}
	*cmd = *parsed
}

// requests checks the parts of requests that do not depend on the protocol.
func (v *validator) requests(c *Component) {
	w := &c.Workload
	seen := make(map[string]Position)
	for i := range w.Requests {
		r := &w.Requests[i]
		if v.skipped(r) {
			continue
		}
		what := requestWhat(r, i)
		v.name(&r.Name, r.Pos, fmt.Sprintf("workload.requests[%d].name", i))
		pos, _, _ := v.place(&r.Name, r.Pos, r.Name)
		if r.Name == AllOperations {
			v.errorf(pos, "request name %q is reserved: it stands for every operation of the component", r.Name)
		}
		if first, dup := seen[r.Name]; dup && r.Name != "" {
			v.errorf(pos, "request name %q is already used at line %d; names must be unique", clip(r.Name), first.Line)
		} else {
			seen[r.Name] = pos
		}
		v.check(&r.Weight, r.Pos, 1 <= r.Weight && r.Weight <= maxWeight, what+" weight", strconv.Itoa(r.Weight),
			"is out of range: must be 1 to 1000000")
		for j := range r.ExpectStatus {
			status := r.ExpectStatus[j]
			v.check(&r.ExpectStatus[j], r.Pos, 100 <= status && status <= 599, what+" expect_status", strconv.Itoa(status),
				"is not an HTTP status: must be 100 to 599")
		}
		if r.BodyFile != "" && r.Body != "" {
			pos, _, _ := v.place(&r.BodyFile, r.Pos, "")
			v.errorf(pos, "%s has a body and a body_file; give one of them", what)
		}
		v.headers(r, what)
	}
}

// headers checks a request's header names and values, and that every
// secret header is one of them.
func (v *validator) headers(r *Request, what string) {
	lower := make(map[string]string, len(r.Headers))
	for _, name := range sortedKeys(r.Headers) {
		pos, _, _ := v.place(headerKey{r, name}, r.Pos, name)
		if !headerToken.MatchString(name) {
			v.errorf(pos, "%s header name %q is not valid: use letters, digits and !#$%%&'*+-.^_`|~", what, clip(name))
		}
		if other, dup := lower[strings.ToLower(name)]; dup {
			v.errorf(pos, "%s has headers %q and %q: header names ignore case, so they are the same header", what, clip(other), clip(name))
		}
		lower[strings.ToLower(name)] = name
		// The value is never quoted: it may be a secret.
		if strings.ContainsAny(r.Headers[name], "\r\n\x00") {
			v.errorf(pos, "%s header %q value must not contain line breaks or NUL", what, clip(name))
		}
	}
	for i, name := range r.SecretHeaders {
		if v.skipped(&r.SecretHeaders[i]) {
			continue
		}
		if _, ok := lower[strings.ToLower(name)]; !ok {
			pos, _, _ := v.place(&r.SecretHeaders[i], r.Pos, name)
			v.errorf(pos, "%s secret_headers names %q, which is not among its headers", what, clip(name))
		}
	}
}

// objectives checks one tier's objectives. Operation names are checked only
// when opsKnown: with an invalid target or workload they would be noise.
func (v *validator) objectives(c *Component, tier Tier, objectives []Objective, opsKnown bool) {
	ops := c.Operations()
	proto, protoErr := Protocol(c.Target)
	type slot struct {
		op     string
		metric Metric
		stage  int
	}
	seen := make(map[slot]bool)
	for i := range objectives {
		o := &objectives[i]
		raw := o.shown()
		name := fmt.Sprintf("%s %s %s", tier, clip(o.Operation), clip(string(o.Metric)))
		if o.Stage != 0 {
			name += fmt.Sprintf(" (stage %d)", o.Stage)
			if !v.stageObjective(c, o, name) {
				continue
			}
		}
		if o.Tier != tier {
			v.errorf(o.Pos, "%s is in the %s tier but says it is %q", name, tier, clip(string(o.Tier)))
		}
		if _, err := ParseMetric(string(o.Metric)); err != nil {
			v.errorf(o.Pos, "slo.%s.%s: %v", tier, clip(o.Operation), err)
			continue
		}
		if opsKnown && o.Operation != AllOperations && !contains(ops, o.Operation) {
			pos, _, _ := v.place(&o.Operation, o.Pos, o.Operation)
			v.errorf(pos, "slo.%s: operation %q is not issued by this component; valid: %s", tier, clip(o.Operation), strings.Join(append(ops, AllOperations), ", "))
		} else if opsKnown && o.Operation != AllOperations && c.Share(o.Operation) == 0 {
			// No data is never a pass: such an objective could only ever be
			// insufficient, so it is refused before any load.
			pos, _, _ := v.place(&o.Operation, o.Pos, o.Operation)
			v.errorf(pos, "slo.%s: operation %q has weight 0 in workload.mix, so the workload never issues it and the objective could never be judged; give it a weight or remove the objective", tier, clip(o.Operation))
		}
		// complete.p99 is p99: the same objective written twice.
		canonical := o.Metric
		if latency, plain := o.Metric.Latency(); latency == LatencyComplete {
			canonical = plain
		}
		if seen[slot{o.Operation, canonical, o.Stage}] {
			v.errorf(o.Pos, "%s is set twice", name)
		}
		seen[slot{o.Operation, canonical, o.Stage}] = true
		if o.Metric == MetricHitRate {
			v.hitRate(c, o, name, proto, protoErr == nil && opsKnown)
		}
		if latency, _ := o.Metric.Latency(); latency != "" {
			v.streamLatency(o, name, proto, protoErr == nil)
		}
		if o.Metric == MetricCapacity {
			v.capacityObjective(o, tier, name, raw)
			continue
		}
		t := o.Threshold
		if o.Metric.OverTime() && (tier == TierRegression || tier == TierTrend) {
			v.errorf(o.Pos, "%s: %s judges the course of one run against a bar, in the minimum or aspirational tier, not against other runs", name, o.Metric)
			continue
		}
		switch {
		case tier == TierTrend:
			if !o.Metric.IsLatency() {
				v.errorf(o.Pos, "%s: the trend tier judges latencies (p50 to max) over the history; %s is not one", name, o.Metric)
			} else if !(0 < t.Ratio && t.Ratio <= maxRelativeChange) {
				v.errorf(o.Pos, "%s %q is out of range: must be more than 0%% and at most +1000%%: the rise the history may show", name, raw)
			}
		case tier == TierRegression || o.Metric == MetricDrift:
			if !(minRelativeChange <= t.Ratio && t.Ratio <= maxRelativeChange) {
				v.errorf(o.Pos, "%s %q is out of range: must be between -100%% and +1000%%", name, raw)
			}
		case o.Metric.IsLatency():
			if t.Latency <= 0 {
				v.errorf(o.Pos, "%s %q must be more than 0", name, raw)
			}
		case o.Metric == MetricP99Window:
			if t.Latency <= 0 || t.Window <= 0 {
				v.errorf(o.Pos, "%s %q: window and max must be more than 0", name, raw)
			} else if d, staged := c.RunLength(v.duration), c.Workload.Stages != nil; t.Window > d && (staged || d > 0) {
				length := "defaults.duration " + FormatDuration(d) + ","
				if staged {
					length = "the stages, " + FormatDuration(d) + " in all,"
				}
				v.errorf(o.Pos, "%s %q: the window is longer than %s so the run has no whole window", name, raw, length)
			}
		default:
			if !(0 <= t.Ratio && t.Ratio <= 1) {
				v.errorf(o.Pos, "%s %q is out of range: must be between 0%% and 100%%", name, raw)
			}
			if o.Metric == MetricThroughput && c.Workload.Rate == 0 && !v.skipped(&c.Workload.Rate) {
				v.errorf(o.Pos, "%s needs an open-loop rate: with rate 0 (closed loop) no rate is asked, so there is no share of it to achieve", name)
			}
		}
	}
}

// stageObjective checks an objective of one stage: the stage exists, and
// its tier and metric judge a stage's own figures (a stage is compared with
// a bar, not with other runs, and is too short a span for a soak's course).
func (v *validator) stageObjective(c *Component, o *Objective, name string) bool {
	switch n := len(c.Workload.Stages); {
	case o.Stage < 0 || o.Stage > n:
		v.errorf(o.Pos, "%s: the workload has %d stages, so stage %d is none of them", name, n, o.Stage)
	case o.Tier != TierMinimum && o.Tier != TierAspirational:
		v.errorf(o.Pos, "%s: a stage's bars are in the minimum or aspirational tier; the %s tier judges the whole run", name, o.Tier)
	case o.Metric.OverTime():
		v.errorf(o.Pos, "%s: %s judges the course of the whole run, not of one stage", name, o.Metric)
	default:
		return true
	}
	return false
}

// hitRate checks where a hit_rate objective may stand: on a read of a
// key-value target (or all of its operations, when one reads), in the
// minimum or aspirational tier.
func (v *validator) hitRate(c *Component, o *Objective, name, proto string, known bool) {
	if o.Tier == TierRegression {
		v.errorf(o.Pos, "%s: hit_rate is judged against a bar (minimum, aspirational), not against a baseline", name)
		return
	}
	if !known {
		return
	}
	if !isKeyValue(proto) {
		v.errorf(o.Pos, "%s: hit_rate is for reads of key-value targets (Redis, Memcached); this is %s target", name, protocolPhrase(proto))
		return
	}
	var reads []string
	for _, op := range c.Operations() {
		if c.Reads(op) {
			reads = append(reads, op)
		}
	}
	switch {
	case o.Operation == AllOperations && len(reads) == 0:
		v.errorf(o.Pos, "%s: no operation of this component reads keys, so nothing hits or misses", name)
	case o.Operation != AllOperations && contains(c.Operations(), o.Operation) && !c.Reads(o.Operation) && len(reads) == 0:
		v.errorf(o.Pos, "%s: %q does not read keys, so it neither hits nor misses, and no operation of this component reads", name, clip(o.Operation))
	case o.Operation != AllOperations && contains(c.Operations(), o.Operation) && !c.Reads(o.Operation):
		v.errorf(o.Pos, "%s: %q does not read keys, so it neither hits nor misses; reads here: %s", name, clip(o.Operation), strings.Join(append(reads, AllOperations), ", "))
	}
}

// streamLatency checks where an objective on a streaming call's latency
// (first_message.p99, complete.p99) may stand: on a gRPC component, and
// for first_message in the minimum or aspirational tier, as the result
// keeps a whole-run histogram of first messages, not the per-interval
// ones a comparison with a baseline needs.
func (v *validator) streamLatency(o *Objective, name, proto string, known bool) {
	latency, plain := o.Metric.Latency()
	if known && proto != ProtocolGRPC {
		v.errorf(o.Pos, "%s: %s is a latency of gRPC streaming calls; this is %s target, whose operations are judged by %s alone",
			name, latency, protocolPhrase(proto), plain)
		return
	}
	if latency == LatencyFirstMessage && o.Tier == TierRegression {
		v.errorf(o.Pos, "%s: %s is judged against a bar (minimum, aspirational), not against a baseline; a regression objective compares the latency to the end of the stream (%s)",
			name, latency, plain)
	}
}

// shown is the objective's threshold as written, or as a plan would write
// it when the objective was built in code.
func (o *Objective) shown() string {
	if o.Raw != "" {
		return o.Raw
	}
	switch {
	case o.Tier == TierRegression || o.Tier == TierTrend || o.Metric == MetricDrift:
		return formatRelative(o.Threshold.Ratio)
	case o.Metric == MetricP99Window:
		return FormatDuration(o.Threshold.Latency) + " per " + FormatDuration(o.Threshold.Window)
	case o.Metric == MetricCapacity:
		return FormatRate(o.Threshold.Rate)
	case o.Metric.IsLatency():
		return FormatDuration(o.Threshold.Latency)
	}
	return FormatPercent(o.Threshold.Ratio)
}

// formatNumber renders a plain number as a plan writes it: 1000000, not
// 1e+06, which the plan's percent grammar would not read back.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// FormatPercent writes a fraction as the plan writes a percent, so that the
// plan reads it back: 0.001 as 0.1%, 0.07 as 7% (not 7.000000000000001%).
func FormatPercent(f float64) string {
	return formatNumber(roundPercent(f)) + "%"
}

// formatRelative renders a relative change with its sign: 0.1 as +10%.
func formatRelative(f float64) string {
	if f >= 0 {
		return "+" + FormatPercent(math.Abs(f)) // Abs turns -0 into 0
	}
	return "-" + FormatPercent(-f)
}

// roundPercent converts a fraction to percent, rounding away the binary
// noise of the division (0.001 × 100 is 0.1, not 0.10000000000000001).
func roundPercent(f float64) float64 {
	return significant(f*100, 12)
}

// significant rounds f to digits significant digits: a percent's binary
// noise away (roundPercent), or a figure the plan never holds, such as an
// operation's share of the mix, to what a message shows of it (1/3 as
// 33.3%). Infinities and NaN come back as they are.
func significant(f float64, digits int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', digits, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// containsFold reports whether list holds s, ignoring case as HTTP header names do.
func containsFold(list []string, s string) bool {
	for _, item := range list {
		if strings.EqualFold(item, s) {
			return true
		}
	}
	return false
}
