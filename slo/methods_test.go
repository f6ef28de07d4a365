package slo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProtocol(t *testing.T) {
	tests := []struct {
		target, want, err string
	}{
		{target: "redis://127.0.0.1:6379/0", want: ProtocolRedis},
		{target: "rediss://:pw@cache:6380", want: ProtocolRedis},
		{target: "REDIS://h:1", want: ProtocolRedis},
		{target: "embedded:redis", want: ProtocolRedis},
		{target: "memcache://h:11211", want: ProtocolMemcache},
		{target: "http://h", want: ProtocolHTTP},
		{target: "https://h:8443/base", want: ProtocolHTTP},
		{target: "grpc://h:50051", want: ProtocolGRPC},
		{target: "grpcs://h:443", want: ProtocolGRPC},
		{target: "", err: "target is empty"},
		{target: "h:6379", err: `unsupported scheme "h"`},
		{target: "localhost", err: "target has no scheme; allowed: redis://"},
		{target: "mysql://h", err: `unsupported scheme "mysql"; allowed: redis://, rediss://, redis+unix://, redis+cluster://, rediss+cluster://, memcache://, memcaches://, memcache+unix://, http://, https://, grpc://, grpcs://, embedded:redis`},
		{target: "embedded:memcache", err: `unsupported embedded target "memcache"`},
		{target: "http://", err: "http target has no host"},
		{target: "redis://:pw@h:port", err: "target is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, err := Protocol(tt.target)
			checkParse(t, "Protocol", tt.target, got, err, tt.want, tt.err, equal)
			if tt.err != "" && strings.Contains(err.Error(), "pw") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// builtPlan returns a valid plan made in code, as tests and tools do.
func builtPlan() *Plan {
	return &Plan{
		Version:  1,
		File:     "built.yaml",
		Defaults: Defaults{Duration: time.Minute, Warmup: 10 * time.Second, Seed: 1, Confidence: 0.95, Inconclusive: InconclusiveError},
		Components: []Component{{
			Name:   "cache",
			Target: "redis://h:6379",
			Workload: Workload{
				Rate: 500, Arrival: ArrivalPoisson, Connections: 8, Timeout: time.Second,
				Keys:      Keys{Count: 100, Distribution: DistributionUniform, Prefix: "t:", ZipfS: 1.1},
				ValueSize: 64, Mix: []MixEntry{{"get", 90}, {"set", 10}}, MaxErrorRate: 0.5,
			},
			SLO: SLO{Minimum: []Objective{
				{Tier: TierMinimum, Operation: "get", Metric: MetricP99, Threshold: Threshold{Latency: 2 * time.Millisecond}, Pos: Position{10, 3}},
			}},
			Pos: Position{5, 3},
		}},
	}
}

func TestOperationsAndShares(t *testing.T) {
	c := &builtPlan().Components[0]
	if got, want := c.Operations(), []string{"get", "set"}; !reflect.DeepEqual(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	for op, want := range map[string]float64{"get": 0.9, "set": 0.1, "all": 1, "del": 0} {
		if got := c.Share(op); got != want {
			t.Errorf("Share(%q) = %v, want %v", op, got, want)
		}
	}
	http := Component{Workload: Workload{Requests: []Request{{Name: "a", Weight: 1}, {Name: "b", Weight: 3}}}}
	if got, want := http.Operations(), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	if got := http.Share("b"); got != 0.75 {
		t.Errorf("Share(b) = %v, want 0.75", got)
	}
	// The engine issues every entry by its weight, so an operation listed
	// twice gets both weights, not the last one.
	twice := Component{Workload: Workload{Mix: []MixEntry{{"get", 1}, {"set", 2}, {"get", 1}}}}
	if got := twice.Share("get"); got != 0.5 {
		t.Errorf("Share(get) listed twice = %v, want 0.5", got)
	}
}

func TestComponentLookup(t *testing.T) {
	p := builtPlan()
	c := p.Component("cache")
	if c != &p.Components[0] {
		t.Errorf("Component(cache) = %p, want the plan's own %p", c, &p.Components[0])
	}
	if p.Component("nope") != nil {
		t.Error("Component(nope) is not nil")
	}
}

func TestABuiltPlanValidates(t *testing.T) {
	if err := builtPlan().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateFindsBrokenRulesInBuiltPlans(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Plan)
		want   string
	}{
		{"no version", func(p *Plan) { p.Version = 0 }, `version "0" is not supported`},
		{"a short soak", func(p *Plan) { p.Defaults.Duration = 500 * time.Millisecond }, `built.yaml: defaults.duration "500ms" is out of range`},
		{"a confidence level of 1", func(p *Plan) { p.Defaults.Confidence = 1 }, `defaults.confidence "100%" is out of range`},
		{"an unknown inconclusive policy", func(p *Plan) { p.Defaults.Inconclusive = "skip" }, `defaults.inconclusive "skip" is not supported`},
		{"no components", func(p *Plan) { p.Components = nil }, "components is empty"},
		{"a bad name", func(p *Plan) { p.Components[0].Name = "Cache" }, `built.yaml:5:3: component "Cache": name "Cache" is not a valid name`},
		{"a duplicate name", func(p *Plan) { p.Components = append(p.Components, p.Components[0]) }, `component name "cache" is already used`},
		{"a bad target", func(p *Plan) { p.Components[0].Target = "ftp://u:secret@h" }, `target "ftp://xxxxx@h": unsupported scheme "ftp"`},
		{"a fast timeout", func(p *Plan) { p.Components[0].Workload.Timeout = time.Microsecond }, `workload.timeout "1us" is out of range`},
		{"an empty mix", func(p *Plan) { p.Components[0].Workload.Mix = nil }, ""},
		{"a zero latency bar", func(p *Plan) { p.Components[0].SLO.Minimum[0].Threshold.Latency = 0 }, `built.yaml:10:3: component "cache": minimum get p99 "0s" must be more than 0`},
		{"an objective in the wrong tier", func(p *Plan) { p.Components[0].SLO.Minimum[0].Tier = TierRegression }, `is in the minimum tier but says it is "regression"`},
		{"an unknown operation", func(p *Plan) { p.Components[0].SLO.Minimum[0].Operation = "del" }, `operation "del" is not issued by this component; valid: get, set, all`},
		{"too few samples", func(p *Plan) { p.Components[0].SLO.Minimum[0].Metric = MetricP9999 }, "get p99.99 needs at least 100000 samples, so a plan must expect 101273 (headroom for random arrivals); rate 500/s × 60s × 90% gives 27000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := builtPlan()
			tt.change(p)
			err := p.Validate()
			if tt.want == "" {
				// An empty mix is valid for a struct only if nothing refers
				// to its operations; here the objective on get does.
				if err == nil || !strings.Contains(err.Error(), `operation "get" is not issued`) {
					t.Fatalf("want an error about get, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error containing %q, got %v", tt.want, err)
			}
		})
	}
}

func TestSampleErrors(t *testing.T) {
	p := builtPlan()
	c := &p.Components[0]
	c.Name = "c"
	c.SLO.Minimum = []Objective{
		{Tier: TierMinimum, Operation: "get", Metric: MetricP9999, Threshold: Threshold{Latency: time.Millisecond}, Pos: Position{10, 3}},
		{Tier: TierMinimum, Operation: "all", Metric: MetricP9999, Threshold: Threshold{Latency: time.Millisecond}, Pos: Position{11, 3}},
		{Tier: TierMinimum, Operation: "all", Metric: MetricMax, Threshold: Threshold{Latency: time.Millisecond}, Pos: Position{12, 3}},
		{Tier: TierMinimum, Operation: "set", Metric: MetricP99, Threshold: Threshold{Latency: time.Millisecond}, Pos: Position{13, 3}},
	}
	c.SLO.Regression = []Objective{
		{Tier: TierRegression, Operation: "set", Metric: MetricP999, Threshold: Threshold{Ratio: 0.1}, Pos: Position{14, 3}},
	}
	got := p.SampleErrors(time.Minute)
	want := []string{
		`built.yaml:10:3: component "c": get p99.99 needs at least 100000 samples, so a plan must expect 101273 (headroom for random arrivals); rate 500/s × 60s × 90% gives 27000: lengthen the duration or drop the objective`,
		`built.yaml:11:3: component "c": all p99.99 needs at least 100000 samples, so a plan must expect 101273 (headroom for random arrivals); rate 500/s × 60s gives 30000: lengthen the duration or drop the objective`,
		`built.yaml:14:3: component "c": set p99.9 needs at least 10000 samples, so a plan must expect 10409 (headroom for random arrivals); rate 500/s × 60s × 10% gives 3000: lengthen the duration or drop the objective`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("got  %s\nwant %s", got[i], want[i])
		}
	}
	if errs := p.SampleErrors(time.Hour); len(errs) != 0 {
		t.Errorf("an hour is enough, got %v", errs)
	}
	c.Workload.Rate = 0
	if errs := p.SampleErrors(time.Minute); len(errs) != 0 {
		t.Errorf("closed loop asks no rate, got %v", errs)
	}
}

func TestLint(t *testing.T) {
	data := `version: 1
components:
  - name: cache
    target: redis://h:6379
    workload:
      rate: 1000
      timeout: 100ms
      mix: {get: 1, set: 0}
    slo:
      minimum:
        get: {p99: 2ms, max: 100ms}
        all: {error_rate: 1%, throughput: 99%}
      aspirational:
        get: {p99: 5ms}
        all: {error_rate: 1%, throughput: 99.5%}
  - name: quiet
    target: embedded:redis
    workload: {rate: 10}
`
	checkLint(t, "lint.yaml", data, []string{
		`lint.yaml:11:30: warning: component "cache": minimum get max 100ms is not below the timeout 100ms: slower operations count as errors, so this bar is never missed on latency`,
		`lint.yaml:14:20: warning: component "cache": aspirational get p99 5ms is not tighter than the minimum 2ms (line 11): it is met whenever the minimum is, so promoting it changes nothing`,
		`lint.yaml:15:27: warning: component "cache": aspirational all error_rate 1% is not tighter than the minimum 1% (line 12): it is met whenever the minimum is, so promoting it changes nothing`,
		`lint.yaml:16:5: warning: component "quiet": no objectives: the component is loaded but never judged`,
	})
	design, _, err := parseTestdata(t, "testdata/design.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := design.Lint(); len(w) != 0 {
		t.Errorf("the design example has warnings: %v", w)
	}
}

func TestSetTarget(t *testing.T) {
	p := builtPlan()
	if err := p.SetTarget("cache", "rediss://:n3w@candidate:6380"); err != nil {
		t.Fatal(err)
	}
	if got := p.Components[0].Target; got != "rediss://:n3w@candidate:6380" {
		t.Errorf("target %q", got)
	}
	if !reflect.DeepEqual(p.Secrets, []string{"n3w"}) {
		t.Errorf("secrets %q, want the new password", p.Secrets)
	}
	err := p.SetTarget("cache", "http://candidate")
	if err == nil || !strings.Contains(err.Error(), `the plan's workload is for redis, the target "http://candidate" speaks http`) {
		t.Errorf("a Redis workload on an HTTP target: got %v", err)
	}
	if err := p.SetTarget("nope", "redis://h:1"); err == nil || !strings.Contains(err.Error(), `no component "nope"`) {
		t.Errorf("unknown component: got %v", err)
	}
	if err := p.SetTarget("cache", "ftp://u:pw@h"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("a bad target must fail without showing its password: got %v", err)
	}
	if err := p.SetTarget("cache", "http://tok3n@candidate"); err == nil || strings.Contains(err.Error(), "tok3n") {
		t.Errorf("a target of another protocol must be refused without showing its userinfo: got %v", err)
	}
	if got := p.Components[0].Target; got != "rediss://:n3w@candidate:6380" {
		t.Errorf("a refused target changed the plan: %q", got)
	}
	if err := p.SetTarget("cache", "redis://T0ken@candidate:6380"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Secrets, []string{"n3w", "T0ken"}) {
		t.Errorf("secrets %q, want the user given alone added", p.Secrets)
	}
}

func TestTargetSecrets(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   []string
	}{
		{"no userinfo holds no secret", "redis://127.0.0.1:6379/0", nil},
		{"a user given alone is the secret", "redis://Sup3rSecretPw@127.0.0.1:1/0", []string{"Sup3rSecretPw"}},
		{"a lone user is a secret for every scheme", "http://t0ken@127.0.0.1:1", []string{"t0ken"}},
		{"a password given alone is the secret", "rediss://:pa55@h:1", []string{"pa55"}},
		{"beside a password the user is not a secret", "memcache://gate:pa55@h:1", []string{"pa55"}},
		{"a percent-encoded password is secret decoded and as written", "redis://us%40er:p%3Ass@h:1", []string{"p:ss", "p%3Ass"}},
		{"lower-case escapes are also secret as net/url writes them", "redis://u:p%3ass@h:1", []string{"p:ss", "p%3ass", "p%3Ass"}},
		{"a percent-encoded lone user is secret decoded and as written", "redis://t%40k@h:1", []string{"t@k", "t%40k"}},
		{"an empty userinfo holds no secret", "redis://@h:1", nil},
		{"a target that is not a URL holds no secret", "redis://%zz@h", nil},
		{"the embedded target holds no secret", EmbeddedRedis, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TargetSecrets(tt.target); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TargetSecrets(%q) = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}

func TestErrorsUnwrapToTheirCauses(t *testing.T) {
	errs := Errors{{Msg: "a"}, {Msg: "b", Err: ErrTooComplex}}
	if !errors.Is(errs, ErrTooComplex) {
		t.Error("errors.Is does not see a cause inside Errors")
	}
	var one *Error
	if !errors.As(error(errs), &one) || one.Msg != "a" {
		t.Errorf("errors.As: got %v", one)
	}
}

func TestTLSAndProtosetAreDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/grpc.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := p.Component("secure").Workload
	if w.Protoset != "protos/api.protoset" {
		t.Errorf("protoset %q", w.Protoset)
	}
	if want := (TLS{CAFile: "certs/ca.pem", ServerName: "api.internal"}); w.TLS != want {
		t.Errorf("tls %+v, want %+v", w.TLS, want)
	}
}

func TestLintTLS(t *testing.T) {
	data := `version: 1
components:
  - name: plain
    target: redis://h:6379
    workload: {rate: 10, tls: {server_name: h}}
    slo: {minimum: {all: {error_rate: 1%}}}
  - name: contradictory
    target: rediss://h:6380
    workload: {rate: 10, tls: {ca_file: ca.pem, insecure_skip_verify: true}}
    slo: {minimum: {all: {error_rate: 1%}}}
`
	checkLint(t, "tls.yaml", data, []string{
		`tls.yaml:3:5: warning: component "plain": workload.tls has no effect on a target without TLS; use rediss://, memcaches://, https:// or grpcs://`,
		`tls.yaml:7:5: warning: component "contradictory": workload.tls.ca_file has no effect while insecure_skip_verify is true`,
	})
}

// TestLintLatencyBarsWithoutAnErrorRateBar: failed operations are never
// latencies, so latency bars alone pass a target that fails everything.
func TestLintLatencyBarsWithoutAnErrorRateBar(t *testing.T) {
	data := `version: 1
components:
  - name: unguarded
    target: redis://h:6379
    workload: {rate: 1000}
    slo: {minimum: {set: {throughput: 99%}, get: {p99: 2ms}}}
  - name: guarded
    target: redis://h:6379
    workload: {rate: 1000}
    slo: {minimum: {get: {p99: 2ms}, all: {error_rate: 1%}}}
  - name: no-latency
    target: redis://h:6379
    workload: {rate: 1000}
    slo: {minimum: {all: {throughput: 99%}}}
`
	checkLint(t, "guard.yaml", data, []string{`guard.yaml:6:56: warning: component "unguarded": minimum latency bars but no error_rate bar: failed operations are counted, never recorded as latencies, so a target that fails every get still meets get p99 2ms; add all: {error_rate: ...}`})
}

func TestStreamsAndCompressionAreDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/streams.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := p.Component("api").Workload
	if w.Streams != 64 || w.Compression != "gzip" {
		t.Errorf("streams %d, compression %q; want 64, gzip", w.Streams, w.Compression)
	}
	d, _, err := parseTestdata(t, "testdata/design.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Components[0].Workload.Streams; s != 0 {
		t.Errorf("streams left out decode as %d, want 0 (one stream)", s)
	}
}

// checkLint parses data as the plan file named file and fails t unless its
// lint warnings are want, in order.
func checkLint(t *testing.T, file, data string, want []string) {
	t.Helper()
	p, err := ParseWithEnv([]byte(data), file, lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range p.Lint() {
		got = append(got, w.String())
	}
	checkLines(t, "warnings", got, want)
}

// checkLines fails t unless got is want, line by line, printing both
// under what.
func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHTTP2KeysAreDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/h2.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, inner := p.Components[0].Workload, p.Components[1].Workload
	if api.Protocol != HTTP2 || api.Streams != 16 || api.Requests[0].BodyFile != "bodies/upload.json" {
		t.Errorf("api: protocol %q, streams %d, body_file %q", api.Protocol, api.Streams, api.Requests[0].BodyFile)
	}
	if inner.Protocol != HTTP2Cleartext || inner.Streams != 0 {
		t.Errorf("inner: protocol %q, streams %d; want h2c and one stream", inner.Protocol, inner.Streams)
	}
}

func TestStreamingRequestsTakeMessages(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/streaming.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 8, 4} {
		if got := p.Component("feed").Workload.Requests[i].Messages; got != want {
			t.Errorf("request %d: messages %d, want %d", i, got, want)
		}
	}
}

func TestStreamingLatencyMetrics(t *testing.T) {
	for _, tt := range []struct {
		metric   string
		latency  string
		plain    Metric
		quantile float64
	}{
		{"first_message.p99", LatencyFirstMessage, MetricP99, 0.99},
		{"first_message.p99.9", LatencyFirstMessage, MetricP999, 0.999},
		{"complete.p50", "", MetricP50, 0.50},
		{"complete.max", "", MetricMax, 0},
		{"p99.9", "", MetricP999, 0.999},
	} {
		m, err := ParseMetric(tt.metric)
		if err != nil {
			t.Fatalf("%s: %v", tt.metric, err)
		}
		latency, plain := m.Latency()
		q, _ := m.Quantile()
		if latency != tt.latency || plain != tt.plain || q != tt.quantile || !m.IsLatency() || m.HigherIsBetter() {
			t.Errorf("%s: latency %q, plain %q, quantile %v, latency metric %v; want %q, %q, %v, true",
				tt.metric, latency, plain, q, m.IsLatency(), tt.latency, tt.plain, tt.quantile)
		}
		if m.FirstMessage() != (tt.latency == LatencyFirstMessage) {
			t.Errorf("%s: FirstMessage %v", tt.metric, m.FirstMessage())
		}
	}
	for _, bad := range []string{"first_message.throughput", "complete.hit_rate", "first_message.", "first_message.p98", "first_message.first_message.p99", "start.p99"} {
		if _, err := ParseMetric(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
	p, _, err := parseTestdata(t, "testdata/streaming.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range p.Component("feed").SLO.Minimum {
		got = append(got, o.Operation+" "+string(o.Metric)+" "+o.Raw)
	}
	if want := "watch first_message.p99 5ms,watch p99 20ms,watch max 40ms,chat first_message.max 50ms,all error_rate 0.1%"; strings.Join(got, ",") != want {
		t.Errorf("minimum objectives %q, want %q", strings.Join(got, ","), want)
	}
}
