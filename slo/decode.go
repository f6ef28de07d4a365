package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxPlanSize is the largest plan accepted, in bytes (1 MiB). Real plans are
// a few kilobytes; the cap bounds the memory a hostile file can claim.
const MaxPlanSize = 1 << 20

// maxNodes bounds how many YAML nodes one decode visits, counting a node
// again each time an alias leads to it, so alias bombs ("billion laughs")
// fail fast in bounded memory and time. A plan of a thousand components
// visits far fewer.
const maxNodes = 100_000

// extensionPrefix starts top-level keys that the plan ignores, so that they
// can hold YAML anchors shared by several components (x-common: &common ...).
const extensionPrefix = "x-"

// The keys each mapping of the plan allows, in the order messages list them.
var (
	planKeys       = []string{"version", "defaults", "components"}
	defaultsKeys   = []string{"duration", "warmup", "seed", "confirm", "confidence", "inconclusive", "adaptive"}
	adaptiveKeys   = []string{"max_duration"}
	componentKeys  = []string{"name", "target", "workload", "slo", "capacity"}
	capacityKeys   = []string{"min_rate", "max_rate", "precision", "max_probes", "max_duration", "probe_duration", "probe_warmup"}
	workloadKeys   = []string{"rate", "arrival", "connections", "timeout", "keys", "value_size", "mix", "requests", "max_error_rate", "protoset", "tls", "protocol", "streams", "concurrency", "pipeline", "prefill", "ttl", "cleanup", "compression", "batch", "stages"}
	stageKeys      = []string{"rate", "duration", "ramp"}
	valuesKeys     = []string{"distribution", "min", "max", "compressibility"}
	prefillKeys    = []string{"rate"}
	tlsKeys        = []string{"ca_file", "server_name", "insecure_skip_verify", "cert_file", "key_file"}
	keysKeys       = []string{"count", "distribution", "prefix", "zipf_s"}
	mixCommandKeys = []string{"command", "weight"}
	requestKeys    = []string{"name", "method", "path", "headers", "secret_headers", "body", "body_file", "weight", "messages", "expect_status"}
	sloKeys        = []string{string(TierMinimum), string(TierAspirational), string(TierRegression), string(TierTrend)}
	windowKeys     = []string{"window", "max"}
)

// Load reads and parses the plan file at path. References to environment
// variables are expanded from the process environment.
func Load(path string) (*Plan, error) {
	return LoadWithEnv(path, os.LookupEnv)
}

// LoadWithEnv is Load with ${NAME} references expanded by lookup.
func LoadWithEnv(path string, lookup func(string) (string, bool)) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read plan: " + pathCause(err), Err: err}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPlanSize+1))
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read plan: " + pathCause(err), Err: err}}
	}
	return ParseWithEnv(data, path, lookup)
}

// pathCause drops the path an *fs.PathError repeats, since messages start with it.
func pathCause(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// Parse decodes and validates a plan; file names it in messages. ${NAME}
// references in targets, header values and bodies are expanded from the
// process environment ("$${" writes a literal "${"). YAML anchors, aliases
// and << merge keys work anywhere; top-level keys starting with "x-" are
// ignored so they can hold shared anchors. On failure the error is an
// Errors holding every problem found, each with its position.
func Parse(data []byte, file string) (*Plan, error) {
	return ParseWithEnv(data, file, os.LookupEnv)
}

// ParseWithEnv is Parse with ${NAME} references expanded by lookup instead
// of the process environment; a nil lookup has no variables set.
func ParseWithEnv(data []byte, file string, lookup func(string) (string, bool)) (*Plan, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	if len(data) > MaxPlanSize {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("%v: over %d bytes (1 MiB)", ErrTooLarge, MaxPlanSize), Err: ErrTooLarge}}
	}
	root, err := parseYAML(data, file)
	if err != nil {
		return nil, Errors{err}
	}
	d := &decoder{
		file:       file,
		lookup:     lookup,
		origins:    make(map[any]origin),
		merging:    make(map[*yaml.Node]bool),
		incomplete: make(map[*Component]bool),
	}
	p := &Plan{File: file}
	if !d.run(func() { d.plan(root, p) }) {
		return nil, d.errs.sorted().capped()
	}
	v := newValidator(file, d.origins)
	v.plan(p)
	errs := append(d.errs, v.errs...)
	if o := d.origins[&p.Defaults.Duration]; !o.bad && validDuration(p.Defaults.Duration) {
		errs = append(errs, p.sampleErrors(p.Defaults.Duration, func(c *Component) bool { return d.incomplete[c] })...)
	}
	if len(errs) > 0 {
		return nil, errs.sorted().capped()
	}
	for _, s := range d.secrets {
		p.addSecret(s)
	}
	p.collectSecrets()
	p.resolvePaths()
	return p, nil
}

// resolvePaths makes the files a plan names (protoset, tls.ca_file,
// tls.cert_file, tls.key_file, a request's body_file) relative to the
// plan's directory, as its readers expect, not to wherever tailgate was
// started.
func (p *Plan) resolvePaths() {
	if p.File == "" {
		return
	}
	dir := filepath.Dir(p.File)
	for i := range p.Components {
		w := &p.Components[i].Workload
		for _, path := range []*string{&w.Protoset, &w.TLS.CAFile, &w.TLS.CertFile, &w.TLS.KeyFile} {
			if *path != "" && !filepath.IsAbs(*path) {
				*path = filepath.Join(dir, *path)
			}
		}
		for j := range w.Requests {
			if r := &w.Requests[j]; r.BodyFile != "" && !filepath.IsAbs(r.BodyFile) {
				r.BodyPath = filepath.Join(dir, r.BodyFile)
			}
		}
	}
}

// yamlLine matches the position yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data as exactly one YAML document.
func parseYAML(data []byte, file string) (root *yaml.Node, err *Error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a plan error is the
		// right answer to any input, never a crash.
		if r := recover(); r != nil {
			root, err = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if e := dec.Decode(&doc); e != nil {
		if errors.Is(e, io.EOF) {
			return nil, &Error{File: file, Msg: "plan is empty; it needs at least version and components"}
		}
		return nil, yamlError(file, data, e)
	}
	var extra yaml.Node
	switch e := dec.Decode(&extra); {
	case errors.Is(e, io.EOF):
	case e != nil:
		return nil, yamlError(file, data, e)
	default:
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a plan is one YAML document; remove this second one (or its --- separator)"}
	}
	if len(doc.Content) != 1 {
		return nil, &Error{File: file, Msg: "plan is empty; it needs at least version and components"}
	}
	return doc.Content[0], nil
}

// tabIndent finds the first line of data indented with a tab, which YAML
// forbids (yaml.v3 then reports an unrelated error, often on another
// line); line and column count from 1.
func tabIndent(data []byte) (line, column int, ok bool) {
	for i, text := range strings.Split(string(data), "\n") {
		indent := len(text) - len(strings.TrimLeft(text, " \t"))
		if tab := strings.IndexByte(text[:indent], '\t'); tab >= 0 && indent < len(strings.TrimRight(text, "\r")) {
			return i + 1, tab + 1, true
		}
	}
	return 0, 0, false
}

// yamlError turns a yaml.v3 syntax error into an Error with its line. A
// syntax error in a plan indented with tabs is the tab's.
func yamlError(file string, data []byte, err error) *Error {
	if line, column, ok := tabIndent(data); ok {
		return &Error{File: file, Line: line, Column: column, Err: err,
			Msg: "invalid YAML: a tab in the indentation: tabs are not allowed in YAML indentation; indent with spaces"}
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2], Err: err}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
}

// origin is where a decoded value came from, so that rules checked after
// decoding can point at it and quote it as written.
type origin struct {
	pos Position
	raw string
	// bad means decoding the value failed and was reported: later rules skip
	// it rather than pile a second message on the same mistake.
	bad bool
}

// decoder walks a plan's YAML nodes into a Plan, collecting every error.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	// component names the component being decoded, for messages.
	component string
	visits    int
	// merging holds the mappings whose << merge is being expanded, to catch
	// a merge that includes itself.
	merging map[*yaml.Node]bool
	// origins is keyed by a pointer to the decoded field (or a headerKey).
	origins map[any]origin
	// incomplete marks components whose workload failed to decode, whose
	// sample counts would only be guesses.
	incomplete map[*Component]bool
	errs       Errors
	// secrets are the values ${NAME} references expanded to.
	secrets []string
	// stages is how many stages the workload of the component being
	// decoded has, for the objectives that name one.
	stageCount int
}

// budgetSpent is the panic value that unwinds a decode past maxNodes.
type budgetSpent struct{}

// run runs walk and reports false if it ran out of node budget.
func (d *decoder) run(walk func()) (completed bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(budgetSpent); !ok {
				panic(r)
			}
			completed = false
		}
	}()
	walk()
	return true
}

// resolve follows n through aliases, counting each step against the budget.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	d.spend()
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		d.spend()
		n = n.Alias
	}
	return n
}

// spend counts one node visit and stops the decode once over budget.
func (d *decoder) spend() {
	d.visits++
	if d.visits > maxNodes {
		d.errs = append(d.errs, &Error{
			File: d.file,
			Msg:  fmt.Sprintf("%v: more than %d YAML nodes with aliases expanded", ErrTooComplex, maxNodes),
			Err:  ErrTooComplex,
		})
		panic(budgetSpent{})
	}
}

// errorf reports a problem at n. A %w verb in format sets the Error's cause.
func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	err := fmt.Errorf(format, args...)
	d.errs = append(d.errs, &Error{
		File: d.file, Line: n.Line, Column: n.Column,
		Component: d.component, Msg: err.Error(), Err: errors.Unwrap(err),
	})
}

// markBad records that the value at dst could not be decoded.
func (d *decoder) markBad(dst any, n *yaml.Node) {
	d.origins[dst] = origin{pos: position(n), bad: true}
}

// expanded decodes a string in which ${NAME} references are expanded. The
// origin keeps the text as written, which names variables but holds none of
// their (secret) values.
func (d *decoder) expanded(n *yaml.Node, what string) (string, origin) {
	return decodeValue(d, n, what, func(s *yaml.Node) (string, error) {
		v, values, err := expand(s.Value, d.lookup)
		if err != nil {
			return "", err
		}
		d.secrets = append(d.secrets, values...)
		return v, nil
	})
}

// plan decodes the document root.
func (d *decoder) plan(n *yaml.Node, p *Plan) {
	p.Defaults = Defaults{
		Duration:     60 * time.Second,
		Warmup:       10 * time.Second,
		Seed:         1,
		Confidence:   0.95,
		Inconclusive: InconclusiveError,
	}
	f, ok := d.fieldsWith(n, "the plan", planKeys, true)
	if !ok {
		d.markBad(&p.Version, n)
		d.markBad(&p.Components, n)
		return
	}
	requireKey(d, n, f, "", "version", &p.Version, asInt, "; add version: 1 at the top")
	if e, ok := f["defaults"]; ok {
		d.defaults(e.value, &p.Defaults)
	}
	e, ok := f["components"]
	if !ok {
		d.errorf(n, "components is required: list the systems under test")
		d.markBad(&p.Components, n)
		return
	}
	items, ok := d.sequence(e.value, "components")
	if !ok {
		d.markBad(&p.Components, e.value)
		return
	}
	decodeItems(d, e.key, items, &p.Components, func(item *yaml.Node, c *Component, i int) bool {
		d.componentAt(item, c, i)
		return true
	})
}

// defaults decodes the defaults mapping over the built-in defaults.
func (d *decoder) defaults(n *yaml.Node, def *Defaults) {
	f, ok := d.fields(n, "defaults", defaultsKeys)
	if !ok {
		return
	}
	decodeKey(d, f, "defaults.", "duration", &def.Duration, asDuration)
	decodeKey(d, f, "defaults.", "warmup", &def.Warmup, asDuration)
	decodeKey(d, f, "defaults.", "seed", &def.Seed, asInt64)
	decodeKey(d, f, "defaults.", "confirm", &def.Confirm, asInt)
	decodeKey(d, f, "defaults.", "confidence", &def.Confidence, asPercent)
	decodeKey(d, f, "defaults.", "inconclusive", &def.Inconclusive, asString)
	if e, ok := f["adaptive"]; ok {
		d.adaptive(e.value, &def.Adaptive)
	}
}

// adaptive decodes defaults.adaptive.
func (d *decoder) adaptive(n *yaml.Node, a *Adaptive) {
	f, ok := d.fields(n, "defaults.adaptive", adaptiveKeys)
	if !ok {
		return
	}
	requireKey(d, n, f, "defaults.adaptive.", "max_duration", &a.MaxDuration, asDuration,
		": the longest measured length a run may extend to, such as 3m")
}

// componentAt decodes the index-th component.
func (d *decoder) componentAt(n *yaml.Node, c *Component, index int) {
	n = d.resolve(n)
	c.Pos = position(n)
	c.TargetPos = c.Pos
	defaultWorkload(&c.Workload)
	f, ok := d.fields(n, fmt.Sprintf("components[%d]", index), componentKeys)
	if !ok {
		d.markBad(c, n)
		return
	}
	// The name first, so that every later message names the component.
	if decodeKey(d, f, "", "name", &c.Name, asString) {
		d.component = c.Name
	}
	defer func() { d.component = "" }()
	if e, ok := f["target"]; ok {
		c.TargetPos = position(e.key)
		var o origin
		c.Target, o = d.expanded(e.value, "target")
		d.origins[&c.Target] = o
	} else {
		d.errorf(n, "target is required: the URL to load, such as redis://127.0.0.1:6379 or %s", EmbeddedRedis)
		d.markBad(&c.Target, n)
	}
	hasMix, hasRequests := false, false
	if e, ok := f["workload"]; ok {
		hasMix, hasRequests = d.workload(e.value, c)
	} else {
		d.errorf(n, "workload is required: at least its rate")
		d.markBad(&c.Workload.Rate, n)
		d.incomplete[c] = true
	}
	if !hasMix && !hasRequests {
		if proto, err := Protocol(c.Target); err == nil && isKeyValue(proto) {
			c.Workload.Mix = []MixEntry{{Operation: OperationGet, Weight: 90}, {Operation: OperationSet, Weight: 10}}
		}
	}
	if e, ok := f["slo"]; ok {
		d.stageCount = len(c.Workload.Stages)
		d.slo(e.value, &c.SLO)
		d.stageCount = 0
	}
	if e, ok := f["capacity"]; ok {
		d.capacity(e.value, &c.Capacity)
	}
}

// capacity decodes a component's capacity block over the defaults.
func (d *decoder) capacity(n *yaml.Node, c *Capacity) {
	f, ok := d.fields(n, "capacity", capacityKeys)
	if !ok {
		return
	}
	decodeKey(d, f, "capacity.", "min_rate", &c.MinRate, asNumber)
	decodeKey(d, f, "capacity.", "max_rate", &c.MaxRate, asNumber)
	decodeKey(d, f, "capacity.", "precision", &c.Precision, asPercent)
	decodeKey(d, f, "capacity.", "max_probes", &c.MaxProbes, asInt)
	decodeKey(d, f, "capacity.", "max_duration", &c.MaxDuration, asDuration)
	decodeKey(d, f, "capacity.", "probe_duration", &c.ProbeDuration, asDuration)
	c.ProbeWarmupSet = decodeKey(d, f, "capacity.", "probe_warmup", &c.ProbeWarmup, asDuration)
}

// defaultWorkload fills in every workload default but the mix, which
// depends on the protocol.
func defaultWorkload(w *Workload) {
	*w = Workload{
		Arrival:     ArrivalPoisson,
		Connections: 8,
		Timeout:     time.Second,
		Keys: Keys{
			Count:        10000,
			Distribution: DistributionUniform,
			Prefix:       "tailgate:",
			ZipfS:        1.1,
		},
		ValueSize:    64,
		MaxErrorRate: 0.5,
	}
}

// workload decodes a component's workload and reports whether it has a
// mix and requests.
func (d *decoder) workload(n *yaml.Node, c *Component) (hasMix, hasRequests bool) {
	w := &c.Workload
	f, ok := d.fields(n, "workload", workloadKeys)
	if !ok {
		d.markBad(&w.Rate, n)
		d.incomplete[c] = true
		return false, false
	}
	track := func(ok bool) {
		if !ok {
			d.incomplete[c] = true
		}
	}
	stages, staged := f["stages"]
	switch e, ok := f["rate"]; {
	case ok && staged:
		d.errorf(stages.key, "workload.stages and workload.rate are exclusive: the stages give the rate; remove workload.rate or workload.stages")
		d.markBad(&w.Rate, n)
		track(false)
	case staged:
		track(d.stages(stages, w))
	case ok:
		track(decodeField(d, e.value, &w.Rate, "workload.rate", asNumber))
	default:
		d.errorf(n, "workload.rate is required: operations per second, or 0 for closed loop (or workload.stages: a list of {rate, duration})")
		d.markBad(&w.Rate, n)
		track(false)
	}
	decodeKey(d, f, "workload.", "arrival", &w.Arrival, asString)
	decodeKey(d, f, "workload.", "connections", &w.Connections, asInt)
	decodeKey(d, f, "workload.", "timeout", &w.Timeout, asDuration)
	if e, ok := f["keys"]; ok {
		d.keys(e.value, &w.Keys)
	}
	if e, ok := f["value_size"]; ok {
		d.valueSize(e.value, w)
	}
	decodeKey(d, f, "workload.", "pipeline", &w.Pipeline, asInt)
	if e, ok := f["prefill"]; ok {
		d.prefill(e.value, &w.Prefill)
	}
	decodeKey(d, f, "workload.", "ttl", &w.TTL, asDuration)
	decodeKey(d, f, "workload.", "cleanup", &w.Cleanup, asBool)
	decodeKey(d, f, "workload.", "max_error_rate", &w.MaxErrorRate, asPercent)
	decodeKey(d, f, "workload.", "protoset", &w.Protoset, asString)
	if e, ok := f["tls"]; ok {
		d.tls(e.value, &w.TLS)
	}
	decodeKey(d, f, "workload.", "protocol", &w.Protocol, asString)
	decodeKey(d, f, "workload.", "streams", &w.Streams, asInt)
	// concurrency is what ghz and k6 call streams: the same key.
	if e, ok := f["concurrency"]; ok {
		if _, both := f["streams"]; both {
			d.errorf(e.key, "workload.concurrency is another name for workload.streams: write one of them, not both")
		} else {
			decodeField(d, e.value, &w.Streams, "workload.concurrency", asInt)
		}
	}
	decodeKey(d, f, "workload.", "compression", &w.Compression, asString)
	decodeKey(d, f, "workload.", "batch", &w.Batch, asInt)
	if e, ok := f["mix"]; ok {
		track(d.mix(e, w))
		hasMix = true
	}
	if e, ok := f["requests"]; ok {
		track(d.requests(e, w))
		hasRequests = true
	}
	return hasMix, hasRequests
}

// stages decodes workload.stages, a list of {rate, duration, ramp}, and
// sets the workload's rate to their mean; false when a stage did not decode.
func (d *decoder) stages(e pair, w *Workload) bool {
	items, ok := d.sequence(e.value, "workload.stages")
	if !ok {
		d.markBad(&w.Rate, e.value)
		return false
	}
	if !decodeItems(d, e.key, items, &w.Stages, d.stage) {
		d.markBad(&w.Rate, e.value)
		return false
	}
	w.Rate = MeanRate(w.Stages)
	d.origins[&w.Rate] = origin{pos: position(e.key), raw: formatNumber(w.Rate)}
	return true
}

// stage decodes the index-th stage; false when it is incomplete.
func (d *decoder) stage(n *yaml.Node, st *Stage, index int) bool {
	n = d.resolve(n)
	st.Pos = position(n)
	what := fmt.Sprintf("workload.stages: stage %d", index+1)
	f, ok := d.fields(n, what, stageKeys)
	if !ok {
		return false
	}
	for _, key := range []string{"rate", "duration"} {
		if _, ok := f[key]; !ok {
			d.errorf(n, "%s needs %s, as in {rate: 1000, duration: 30s}", what, key)
		}
	}
	// decodeKey is false for a missing key: the stage is then incomplete.
	rate := decodeKey(d, f, what+" ", "rate", &st.Rate, asNumber)
	duration := decodeKey(d, f, what+" ", "duration", &st.Duration, asDuration)
	decodeKey(d, f, what+" ", "ramp", &st.Ramp, asString)
	return rate && duration
}

// valueSize decodes value_size: a number of bytes, or a mapping of a
// size distribution.
func (d *decoder) valueSize(n *yaml.Node, w *Workload) {
	n = d.resolve(n)
	f, ok := scalarOrFields(d, n, "workload.value_size", &w.ValueSize, asInt, valuesKeys)
	if !ok {
		return
	}
	v := &Values{Distribution: SizeUniform}
	w.Values = v
	d.origins[v] = origin{pos: position(n)}
	decodeKey(d, f, "workload.value_size.", "distribution", &v.Distribution, asString)
	decodeKey(d, f, "workload.value_size.", "min", &v.Min, asInt)
	requireKey(d, n, f, "workload.value_size.", "max", &v.Max, asInt, ": the largest value written, in bytes, such as 4096")
	if _, ok := f["min"]; !ok && v.Distribution == SizeFixed {
		v.Min = v.Max
	}
	decodeKey(d, f, "workload.value_size.", "compressibility", &v.Compressibility, asPercent)
	w.ValueSize = v.Max
}

// prefill decodes prefill: true or false, or a mapping with its rate.
func (d *decoder) prefill(n *yaml.Node, p *Prefill) {
	n = d.resolve(n)
	f, ok := scalarOrFields(d, n, "workload.prefill", &p.Enabled, asBool, prefillKeys)
	if !ok {
		return
	}
	p.Enabled = true
	d.origins[p] = origin{pos: position(n)}
	decodeKey(d, f, "workload.prefill.", "rate", &p.Rate, asNumber)
}

// keys decodes the key generator settings.
func (d *decoder) keys(n *yaml.Node, k *Keys) {
	f, ok := d.fields(n, "workload.keys", keysKeys)
	if !ok {
		return
	}
	decodeKey(d, f, "workload.keys.", "count", &k.Count, asInt)
	decodeKey(d, f, "workload.keys.", "distribution", &k.Distribution, asString)
	decodeKey(d, f, "workload.keys.", "prefix", &k.Prefix, asString)
	decodeKey(d, f, "workload.keys.", "zipf_s", &k.ZipfS, asNumber)
}

// tls decodes the certificate settings of a TLS target.
func (d *decoder) tls(n *yaml.Node, t *TLS) {
	f, ok := d.fields(n, "workload.tls", tlsKeys)
	if !ok {
		return
	}
	decodeKey(d, f, "workload.tls.", "ca_file", &t.CAFile, asString)
	decodeKey(d, f, "workload.tls.", "server_name", &t.ServerName, asString)
	decodeKey(d, f, "workload.tls.", "insecure_skip_verify", &t.InsecureSkipVerify, asBool)
	decodeKey(d, f, "workload.tls.", "cert_file", &t.CertFile, asString)
	decodeKey(d, f, "workload.tls.", "key_file", &t.KeyFile, asString)
}

// mix decodes the operation weights in file order.
func (d *decoder) mix(e pair, w *Workload) bool {
	entries, ok := d.pairs(e.value, "workload.mix")
	if !ok {
		d.markBad(&w.Mix, e.value)
		return false
	}
	complete := decodeItems(d, e.key, entries, &w.Mix, func(p pair, m *MixEntry, _ int) bool {
		m.Operation = p.key.Value
		d.origins[&m.Operation] = origin{pos: position(p.key), raw: p.key.Value}
		if d.resolve(p.value).Kind == yaml.MappingNode {
			return d.mixCommand(p, m, w)
		}
		return decodeField(d, p.value, &m.Weight, "workload.mix."+clip(p.key.Value), asInt)
	})
	if !complete {
		d.markBad(&w.Mix, e.value)
	}
	return complete
}

// mixCommand decodes a mix entry of a generic command,
// {command: "...", weight: N}; the command is split and checked by
// validation, which knows the target.
func (d *decoder) mixCommand(p pair, m *MixEntry, w *Workload) bool {
	what := "workload.mix." + clip(p.key.Value)
	f, ok := d.fields(p.value, what, mixCommandKeys)
	if !ok {
		d.markBad(&m.Weight, p.value)
		return false
	}
	cmd := &Command{}
	if w.Commands == nil {
		w.Commands = make(map[string]*Command)
	}
	w.Commands[m.Operation] = cmd
	e, ok := f["command"]
	if !ok {
		d.errorf(p.value, "%s.command is required: a Redis command such as \"HSET {{key}} field {{value}}\"", what)
		d.markBad(cmd, p.value)
		return false
	}
	if !decodeField(d, e.value, &cmd.Text, what+".command", asString) {
		d.markBad(cmd, e.value)
		return false
	}
	d.origins[cmd] = origin{pos: position(e.value), raw: cmd.Text}
	m.Weight = 1
	decodeKey(d, f, what+".", "weight", &m.Weight, asInt)
	return true
}

// requests decodes the named requests of an HTTP or gRPC workload.
func (d *decoder) requests(e pair, w *Workload) bool {
	items, ok := d.sequence(e.value, "workload.requests")
	if !ok {
		d.markBad(&w.Requests, e.value)
		return false
	}
	complete := decodeItems(d, e.key, items, &w.Requests, d.request)
	if !complete {
		d.markBad(&w.Requests, e.value)
	}
	return complete
}

// headerKey locates one header of a request in decoder origins.
type headerKey struct {
	request *Request
	name    string
}

// request decodes one request; false when it is not a mapping.
func (d *decoder) request(n *yaml.Node, r *Request, index int) bool {
	n = d.resolve(n)
	r.Pos = position(n)
	r.Weight = 1
	what := fmt.Sprintf("workload.requests[%d]", index)
	f, ok := d.fields(n, what, requestKeys)
	if !ok {
		d.markBad(r, n)
		return false
	}
	if decodeKey(d, f, what+".", "name", &r.Name, asString) {
		what = fmt.Sprintf("request %q", clip(r.Name))
	}
	decodeKey(d, f, what+" ", "method", &r.Method, asString)
	decodeKey(d, f, what+" ", "path", &r.Path, asString)
	if e, ok := f["headers"]; ok {
		if entries, ok := d.pairs(e.value, what+" headers"); ok {
			r.Headers = make(map[string]string, len(entries))
			for _, p := range entries {
				r.Headers[p.key.Value], _ = d.expanded(p.value, fmt.Sprintf("%s header %q", what, clip(p.key.Value)))
				d.origins[headerKey{r, p.key.Value}] = origin{pos: position(p.key), raw: p.key.Value}
			}
		}
	}
	if e, ok := f["secret_headers"]; ok {
		r.SecretHeaders = decodeList(d, e.value, what+" secret_headers", asString[string])
	}
	if e, ok := f["body"]; ok {
		var o origin
		r.Body, o = d.expanded(e.value, what+" body")
		d.origins[&r.Body] = o
	}
	if _, ok := f["body_file"]; ok {
		decodeKey(d, f, what+" ", "body_file", &r.BodyFile, asString)
		r.BodyPath = r.BodyFile
	}
	decodeKey(d, f, what+" ", "weight", &r.Weight, asInt)
	decodeKey(d, f, what+" ", "messages", &r.Messages, asInt)
	if e, ok := f["expect_status"]; ok {
		r.ExpectStatus = decodeList(d, e.value, what+" expect_status", asInt)
	}
	return true
}

// slo decodes a component's objectives, tier by tier.
func (d *decoder) slo(n *yaml.Node, s *SLO) {
	f, ok := d.fields(n, "slo", sloKeys)
	if !ok {
		return
	}
	for _, t := range []struct {
		tier       Tier
		objectives *[]Objective
	}{
		{TierMinimum, &s.Minimum},
		{TierAspirational, &s.Aspirational},
		{TierRegression, &s.Regression},
		{TierTrend, &s.Trend},
	} {
		if e, ok := f[string(t.tier)]; ok {
			*t.objectives = d.tier(e.value, t.tier)
		}
	}
}

// tier decodes one tier's {operation: {metric: value}} in file order.
func (d *decoder) tier(n *yaml.Node, tier Tier) []Objective {
	what := "slo." + string(tier)
	ops, ok := d.pairs(n, what)
	if !ok {
		return nil
	}
	var objectives []Objective
	var opPos []Position
	for _, op := range ops {
		for _, bars := range d.barSets(op.value) {
			metrics, ok := d.pairs(bars, what+"."+clip(op.key.Value))
			if !ok {
				continue
			}
			stages, metrics, ok := d.stageOf(metrics, what+"."+clip(op.key.Value))
			if !ok {
				continue
			}
			judged := d.bars(metrics, tier, op)
			for _, stage := range stages {
				for _, o := range judged {
					o.Stage = stage
					objectives = append(objectives, o)
					opPos = append(opPos, position(op.key))
				}
			}
		}
	}
	for i := range objectives {
		d.origins[&objectives[i].Operation] = origin{pos: opPos[i], raw: objectives[i].Operation}
	}
	return objectives
}

// barSets returns the mappings of bars an operation of a tier holds: its
// value, or each item of it when it is a list (so that one operation can
// have whole-run bars and bars of a stage).
func (d *decoder) barSets(n *yaml.Node) []*yaml.Node {
	if r := d.resolve(n); r.Kind == yaml.SequenceNode {
		return r.Content
	}
	return []*yaml.Node{n}
}

// stageOf takes the stage key out of an operation's bars: the stages they
// judge (0 for the whole run, or each stage of stage: all), and the bars
// without it.
func (d *decoder) stageOf(metrics []pair, what string) (stages []int, bars []pair, ok bool) {
	stages = []int{0}
	for _, m := range metrics {
		if m.key.Value != "stage" {
			bars = append(bars, m)
			continue
		}
		value, ok := d.scalar(m.value, what+" stage")
		if !ok {
			return nil, nil, false
		}
		if d.stageCount == 0 {
			d.errorf(m.key, "%s stage %q: the workload has no stages; stage names one of workload.stages", what, clip(value.Value))
			return nil, nil, false
		}
		if value.Value == "all" {
			stages = stages[:0]
			for i := range d.stageCount {
				stages = append(stages, i+1)
			}
			continue
		}
		n, err := strconv.Atoi(value.Value)
		if err != nil || n < 1 || n > d.stageCount {
			d.errorf(value, "%s stage %q: want a stage number from 1 to %d, or all", what, clip(value.Value), d.stageCount)
			return nil, nil, false
		}
		stages = []int{n}
	}
	return stages, bars, true
}

// bars decodes the {metric: value} bars of one operation of a tier.
func (d *decoder) bars(metrics []pair, tier Tier, op pair) []Objective {
	what := "slo." + string(tier)
	var objectives []Objective
	for _, m := range metrics {
		metric, err := ParseMetric(m.key.Value)
		if err != nil {
			d.errorf(m.key, "%s.%s: %w", what, clip(op.key.Value), err)
			continue
		}
		name := fmt.Sprintf("%s %s %s", tier, clip(op.key.Value), metric)
		if metric == MetricP99Window {
			if o, ok := d.window(m.value, name); ok {
				o.Tier, o.Operation = tier, op.key.Value
				objectives = append(objectives, o)
			}
			continue
		}
		value, ok := d.scalar(m.value, name)
		if !ok {
			continue
		}
		threshold, err := parseThreshold(tier, metric, value.Value)
		if err != nil {
			d.errorf(value, "%s: %w", name, err)
			continue
		}
		objectives = append(objectives, Objective{
			Tier:      tier,
			Operation: op.key.Value,
			Metric:    metric,
			Threshold: threshold,
			Raw:       value.Value,
			Pos:       position(value),
		})
	}
	return objectives
}

// window decodes p99_window's {window: D, max: D}.
func (d *decoder) window(n *yaml.Node, name string) (Objective, bool) {
	o := Objective{Metric: MetricP99Window, Pos: position(d.resolve(n))}
	if d.resolve(n).Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping {window: 10s, max: 5ms}, got %s", name, describe(d.resolve(n)))
		return o, false
	}
	f, ok := d.fields(n, name, windowKeys)
	if !ok {
		return o, false
	}
	good := true
	for _, key := range windowKeys {
		e, ok := f[key]
		if !ok {
			d.errorf(n, "%s needs %s (e.g. {window: 10s, max: 5ms})", name, key)
			good = false
			continue
		}
		dst := &o.Threshold.Window
		if key == "max" {
			dst = &o.Threshold.Latency
		}
		if !decodeField(d, e.value, dst, name+" "+key, asDuration) {
			good = false
		}
	}
	o.Raw = fmt.Sprintf("%s per %s", FormatDuration(o.Threshold.Latency), FormatDuration(o.Threshold.Window))
	return o, good
}

// parseThreshold parses an objective's value in the form its tier and
// metric take: a relative change in the regression tier, else a duration
// for latencies and a percent for error_rate and throughput.
func parseThreshold(tier Tier, metric Metric, s string) (Threshold, error) {
	switch {
	case tier == TierRegression || tier == TierTrend || metric == MetricDrift:
		r, err := ParseRelative(s)
		return Threshold{Ratio: r}, err
	case metric == MetricCapacity:
		r, err := ParseRate(s)
		return Threshold{Rate: r}, err
	case metric.IsLatency():
		l, err := ParseDuration(s)
		return Threshold{Latency: l}, err
	default:
		r, err := ParsePercent(s)
		return Threshold{Ratio: r}, err
	}
}
