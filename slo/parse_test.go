package slo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testEnv is the environment the testdata plans are parsed with.
var testEnv = map[string]string{
	"REDIS_PASSWORD": "hunter2",
	"API_HOST":       "api.internal",
	"API_TOKEN":      "tok-123",
	"API_PASSWORD":   "pa55",
	"EMPTY":          "",
}

func lookupTestEnv(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

func parseTestdata(t *testing.T, path string) (*Plan, []byte, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseWithEnv(data, filepath.Base(path), lookupTestEnv)
	return p, data, err
}

// eachFile runs test on every file the pattern matches, each as a subtest
// named by the file's base name; a pattern that matches nothing fails t.
func eachFile(t *testing.T, pattern string, test func(t *testing.T, file string)) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no %s", pattern)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { test(t, file) })
	}
}

func TestGoodPlansParseAndRevalidate(t *testing.T) {
	eachFile(t, "testdata/*.good.yaml", func(t *testing.T, file string) {
		p, _, err := parseTestdata(t, file)
		if err != nil {
			t.Fatalf("want a plan, got:\n%v", err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("the parsed plan does not validate:\n%v", err)
		}
	})
}

func TestBadPlansReportTheirError(t *testing.T) {
	eachFile(t, "testdata/*.bad.yaml", func(t *testing.T, file string) {
		p, data, err := parseTestdata(t, file)
		first, _ := bufio.NewReader(bytes.NewReader(data)).ReadString('\n')
		want, ok := strings.CutPrefix(strings.TrimSpace(first), "# error: ")
		if !ok || want == "" {
			t.Fatalf("first line must be '# error: <expected substring>', got %q", first)
		}
		if err == nil {
			t.Fatalf("want an error containing %q, got a plan", want)
		}
		if p != nil {
			t.Errorf("want no plan with an error")
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("want an error containing\n\t%s\ngot\n\t%s", want, strings.ReplaceAll(err.Error(), "\n", "\n\t"))
		}
		var errs Errors
		if !errors.As(err, &errs) {
			t.Fatalf("want an Errors, got %T", err)
		}
		for _, e := range errs {
			if e.File != filepath.Base(file) {
				t.Errorf("error %q names file %q", e, e.File)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("an error message shows a password:\n%v", err)
		}
	})
}

func TestEveryErrorIsReportedWithItsPosition(t *testing.T) {
	_, _, err := parseTestdata(t, "testdata/multi.bad.yaml")
	want := []string{
		`multi.bad.yaml:4:13: defaults.duration: invalid duration "60": missing unit; use one of ns, us, µs, ms, s, m, h`,
		`multi.bad.yaml:5:9: defaults.seed: "-3.5" is not a whole number`,
		`multi.bad.yaml:11:20: component "a": workload.connections "0" is out of range: must be 1 to 4096`,
		`multi.bad.yaml:12:7: component "a": unknown key "mixx" in workload (did you mean "mix"?); allowed: rate, arrival, connections, timeout, keys, value_size, mix, requests, max_error_rate, protoset, tls, protocol, streams, concurrency, pipeline, prefill, ttl, cleanup, compression, batch, stages`,
		`multi.bad.yaml:15:20: component "a": minimum get p99: invalid duration "fast": want a number and a unit, like 250ms or 1.5s (units: ns, us, µs, ms, s, m, h)`,
		`multi.bad.yaml:16:9: component "a": slo.minimum: operation "put" is not issued by this component; valid: get, set, all`,
		`multi.bad.yaml:17:11: component "B": name "B" is not a valid name: use 1 to 63 of a-z, 0-9, "_", "." and "-", starting with a letter or digit`,
		`multi.bad.yaml:18:13: component "B": target "gopher://h": unsupported scheme "gopher"; allowed: redis://, rediss://, redis+unix://, redis+cluster://, rediss+cluster://, memcache://, memcaches://, memcache+unix://, http://, https://, grpc://, grpcs://, embedded:redis`,
	}
	if err == nil {
		t.Fatal("want errors")
	}
	checkLines(t, "errors", strings.Split(err.Error(), "\n"), want)
}

func TestTheDesignExamplePlan(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/design.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Plan{
		Version:  1,
		File:     "design.good.yaml",
		Defaults: Defaults{Duration: time.Minute, Warmup: 10 * time.Second, Seed: 1, Confirm: 0, Confidence: 0.95, Inconclusive: InconclusiveError},
		Components: []Component{{
			Name:   "session-cache",
			Target: "redis://127.0.0.1:6379/0",
			Workload: Workload{
				Rate:         5000,
				Arrival:      ArrivalPoisson,
				Connections:  8,
				Timeout:      time.Second,
				Keys:         Keys{Count: 100000, Distribution: DistributionZipf, Prefix: "tailgate:", ZipfS: 1.1},
				ValueSize:    256,
				Mix:          []MixEntry{{"get", 90}, {"set", 10}},
				MaxErrorRate: 0.5,
			},
			SLO: SLO{
				Minimum: []Objective{
					{TierMinimum, "get", MetricP99, Threshold{Latency: 2 * time.Millisecond}, "2ms", Position{19, 20}, 0},
					{TierMinimum, "get", MetricP999, Threshold{Latency: 5 * time.Millisecond}, "5ms", Position{19, 32}, 0},
					{TierMinimum, "set", MetricP99, Threshold{Latency: 3 * time.Millisecond}, "3ms", Position{20, 20}, 0},
					{TierMinimum, "all", MetricErrorRate, Threshold{Ratio: 0.001}, "0.1%", Position{21, 27}, 0},
					{TierMinimum, "all", MetricThroughput, Threshold{Ratio: 0.99}, "99%", Position{21, 45}, 0},
				},
				Aspirational: []Objective{
					{TierAspirational, "get", MetricP99, Threshold{Latency: time.Millisecond}, "1ms", Position{23, 20}, 0},
				},
				Regression: []Objective{
					{TierRegression, "get", MetricP99, Threshold{Ratio: 0.10}, "+10%", Position{25, 20}, 0},
				},
			},
			Pos:       Position{7, 5},
			TargetPos: Position{8, 5},
		}},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got\n%+v\nwant\n%+v", p, want)
	}
	if w := p.Lint(); len(w) != 0 {
		t.Errorf("want no warnings, got %v", w)
	}
}

func TestDefaultsFillEverythingLeftOut(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Defaults{Duration: 60 * time.Second, Warmup: 10 * time.Second, Seed: 1, Confidence: 0.95, Inconclusive: InconclusiveError}); p.Defaults != want {
		t.Errorf("defaults %+v, want %+v", p.Defaults, want)
	}
	w := p.Components[0].Workload
	want := Workload{
		Rate: 1000, Arrival: ArrivalPoisson, Connections: 8, Timeout: time.Second,
		Keys:      Keys{Count: 10000, Distribution: DistributionUniform, Prefix: "tailgate:", ZipfS: 1.1},
		ValueSize: 64, Mix: []MixEntry{{"get", 90}, {"set", 10}}, MaxErrorRate: 0.5,
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("workload %+v, want %+v", w, want)
	}
}

func TestEveryKeyIsDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/kitchen-sink.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Defaults{Duration: 5 * time.Minute, Warmup: 0, Seed: 42, Confirm: 2, Confidence: 0.99, Inconclusive: InconclusiveFail, Adaptive: Adaptive{MaxDuration: 15 * time.Minute}}); p.Defaults != want {
		t.Errorf("defaults %+v, want %+v", p.Defaults, want)
	}
	c := p.Component("sessions.v2")
	if c == nil {
		t.Fatal("no component sessions.v2")
	}
	want := Workload{
		Rate: 2000, Arrival: ArrivalUniform, Connections: 64, Timeout: 250 * time.Millisecond,
		Keys:      Keys{Count: 1_000_000, Distribution: DistributionZipf, Prefix: "t:", ZipfS: 1.3},
		ValueSize: 1024, Mix: []MixEntry{{"set", 1}, {"get", 3}}, MaxErrorRate: 0.05,
	}
	if !reflect.DeepEqual(c.Workload, want) {
		t.Errorf("workload %+v, want %+v", c.Workload, want)
	}
	if got, want := c.Target, "rediss://:hunter2@cache.internal:6380/1"; got != want {
		t.Errorf("target %q, want %q", got, want)
	}
	if got := len(c.SLO.Minimum) + len(c.SLO.Aspirational) + len(c.SLO.Regression); got != 13 {
		t.Errorf("%d objectives, want 13", got)
	}
	if got := p.Component("memcached").Workload.Rate; got != 0.5 {
		t.Errorf("fractional rate %v, want 0.5", got)
	}
}

func TestRequestsAreDecodedWithEnvironmentAndSecrets(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/http.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Components[0]
	if c.Target != "https://api.internal:8443/v1" {
		t.Errorf("target %q", c.Target)
	}
	if got, want := c.Operations(), []string{"home", "login"}; !reflect.DeepEqual(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	login := c.Workload.Requests[1]
	wantLogin := Request{
		Name: "login", Method: "POST", Path: "/login?next=%2F",
		Headers: map[string]string{
			"Content-Type":  "application/json",
			"Authorization": "Bearer tok-123",
			"X-Api-Key":     "static-key-1",
		},
		SecretHeaders: []string{"x-api-key"},
		Body:          `{"user": "bench", "password": "pa55", "literal": "${NOT_EXPANDED}"}`,
		Weight:        1,
		Pos:           Position{15, 11},
	}
	if !reflect.DeepEqual(login, wantLogin) {
		t.Errorf("login\n%+v\nwant\n%+v", login, wantLogin)
	}
	if got := c.Workload.Requests[0]; got.Weight != 3 || !reflect.DeepEqual(got.ExpectStatus, []int{200, 304}) {
		t.Errorf("home %+v", got)
	}
	// Expanded values first, in file order, then the structural secrets.
	wantSecrets := []string{"api.internal", "tok-123", "pa55", "Bearer tok-123", "static-key-1"}
	if !reflect.DeepEqual(p.Secrets, wantSecrets) {
		t.Errorf("secrets %q, want %q", p.Secrets, wantSecrets)
	}
}

func TestTargetPasswordsAreSecrets(t *testing.T) {
	tests := []struct {
		name, target string
		env          map[string]string
		want         []string
	}{
		{"a literal password", "redis://user:s3cret@h:6379", nil, []string{"s3cret"}},
		{"a percent-encoded password, decoded and as written", "redis://:p%40ss@h:6379", nil, []string{"p@ss", "p%40ss"}},
		{"a lone Redis user name, which may be a password", "redis://onlysecret@h:6379", nil, []string{"onlysecret"}},
		{"no userinfo", "memcache://h:11211", nil, nil},
		{"an expanded password, once", "redis://:${PW}@h:6379", map[string]string{"PW": "pw1"}, []string{"pw1"}},
		{"an empty variable, which is no secret", "redis://h:6379/${EMPTY}", map[string]string{"EMPTY": ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "version: 1\ncomponents:\n  - {name: c, target: '" + tt.target + "', workload: {rate: 10}}\n"
			p, err := ParseWithEnv([]byte(data), "p.yaml", func(name string) (string, bool) {
				v, ok := tt.env[name]
				return v, ok
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Secrets, tt.want) {
				t.Errorf("secrets %q, want %q", p.Secrets, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "LONG_NAME_2": "two", "E": ""}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	tests := []struct {
		in, want string
		values   []string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1", values: []string{"1"}},
		{in: "x${A}y${LONG_NAME_2}z", want: "x1ytwoz", values: []string{"1", "two"}},
		{in: "${E}", want: "", values: []string{""}},
		{in: "$A and $", want: "$A and $"},
		{in: "$${A}", want: "${A}"},
		{in: "${MISSING}", err: "${MISSING}: environment variable not set"},
		{in: "${A", err: `unterminated "${"`},
		{in: "${1A}", err: `invalid variable name "1A"`},
		{in: "${}", err: `invalid variable name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, values, err := expand(tt.in, lookup)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || !reflect.DeepEqual(values, tt.values) {
				t.Errorf("expand(%q) = %q, %q, %v; want %q, %q", tt.in, got, values, err, tt.want, tt.values)
			}
		})
	}
}

func TestAnUnsetVariableIsErrUnsetVariable(t *testing.T) {
	data := []byte("version: 1\ncomponents:\n  - {name: c, target: '${NOPE}', workload: {rate: 1}}\n")
	_, err := ParseWithEnv(data, "p.yaml", func(string) (string, bool) { return "", false })
	if !errors.Is(err, ErrUnsetVariable) {
		t.Errorf("want ErrUnsetVariable, got %v", err)
	}
	if _, err := ParseWithEnv(data, "p.yaml", nil); !errors.Is(err, ErrUnsetVariable) {
		t.Errorf("a nil lookup: want ErrUnsetVariable, got %v", err)
	}
}

func TestMixKeepsFileOrderAndAnchorsMerge(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/anchors.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	primary, replica := p.Component("primary"), p.Component("replica")
	if primary.Workload.Connections != 4 || replica.Workload.Connections != 16 {
		t.Errorf("connections %d and %d, want 4 and 16 (an explicit key wins over <<)", primary.Workload.Connections, replica.Workload.Connections)
	}
	if want := []MixEntry{{"get", 80}, {"set", 20}}; !reflect.DeepEqual(replica.Workload.Mix, want) {
		t.Errorf("mix %v, want %v", replica.Workload.Mix, want)
	}
	got := map[Metric]string{}
	for _, o := range replica.SLO.Minimum {
		got[o.Metric] = o.Raw
	}
	if want := map[Metric]string{MetricP99: "4ms", MetricP999: "20ms"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged objectives %v, want %v", got, want)
	}
}

func TestAliasBombFailsFast(t *testing.T) {
	// Billion laughs through merge keys: each level merges ten copies of the
	// one before. The parser keeps aliases as pointers; the decoder's node
	// budget stops the expansion.
	var b strings.Builder
	b.WriteString("version: 1\nx-lol:\n  m0: &m0 {a: '1', b: '2'}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  m%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 10), ", "))
	}
	b.WriteString("components:\n  - name: api\n    target: http://api:80\n    workload:\n      rate: 10\n      requests:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "        - {name: r%d, method: GET, path: /, headers: *m9}\n", i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ParseWithEnv([]byte(b.String()), "bomb.yaml", lookupTestEnv)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("want ErrTooComplex, got %v", err)
	}
	// Expanded, the bomb is 10^9 maps; refused, a few of them. What the
	// refusal allocates tells the two apart, whatever the machine's speed.
	t.Logf("refusing the bomb allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)/1024)
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("refusing an alias bomb allocated %d MiB, want under 64 MiB: it was expanded", got>>20)
	}
}

func TestOversizedInputIsRefused(t *testing.T) {
	data := bytes.Repeat([]byte("#"), MaxPlanSize+1)
	if _, err := Parse(data, "big.yaml"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse: want ErrTooLarge, got %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Load: want ErrTooLarge, got %v", err)
	}
}

func TestLoad(t *testing.T) {
	p, err := Load("testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.File != "testdata/minimal.good.yaml" {
		t.Errorf("File %q", p.File)
	}
	_, err = Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("want fs.ErrNotExist, got %v", err)
	}
	if want := "testdata/does-not-exist.yaml: cannot read plan: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "p.yaml", Line: 3, Column: 7, Component: "c", Msg: "bad"}, `p.yaml:3:7: component "c": bad`},
		{&Error{File: "p.yaml", Line: 3, Column: 7, Msg: "bad"}, `p.yaml:3:7: bad`},
		{&Error{File: "p.yaml", Line: 3, Msg: "bad"}, `p.yaml:3: bad`},
		{&Error{File: "p.yaml", Msg: "bad"}, `p.yaml: bad`},
		{&Error{Msg: "bad"}, `bad`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := Errors{tests[0].err, tests[1].err}
	if got, want := errs.Error(), "p.yaml:3:7: component \"c\": bad\np.yaml:3:7: bad"; got != want {
		t.Errorf("Errors: got %q, want %q", got, want)
	}
	w := Warning{File: "p.yaml", Pos: Position{2, 5}, Component: "c", Msg: "hm"}
	if got, want := w.String(), `p.yaml:2:5: warning: component "c": hm`; got != want {
		t.Errorf("Warning: got %q, want %q", got, want)
	}
}

func TestThousandsOfMistakesAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncomponents:\n  - name: c\n    target: embedded:redis\n    workload:\n      rate: 1\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "      bogus%d: 1\n", i)
	}
	_, err := ParseWithEnv([]byte(b.String()), "many.yaml", lookupTestEnv)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	if len(errs) != maxReported+1 {
		t.Fatalf("%d errors, want %d and a summary", len(errs), maxReported)
	}
	if got, want := errs[len(errs)-1].Error(), "many.yaml: 4800 more problems not shown; fix these first"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestHugeValuesAreClippedInMessages(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	data := "version: 1\ncomponents:\n  - name: " + long + "\n    target: " + long + "\n    workload: {rate: 1, timeout: " + long + "}\n"
	_, err := ParseWithEnv([]byte(data), "long.yaml", lookupTestEnv)
	if err == nil {
		t.Fatal("want errors")
	}
	if n := len(err.Error()); n > 2000 {
		t.Errorf("%d bytes of errors for three long values:\n%.3000s", n, err)
	}
}

func TestTheCacheKeysAreDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/cache-keys.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		component string
		pipeline  int
		prefill   Prefill
		ttl       time.Duration
		cleanup   bool
		valueSize int
		values    *Values
	}{
		{"sessions", 16, Prefill{Enabled: true, Rate: 50000}, 10 * time.Minute, true, 16384,
			&Values{Distribution: SizeZipf, Min: 64, Max: 16384, Compressibility: 0.5}},
		{"fragments", 0, Prefill{Enabled: true}, 0, false, 512, &Values{Distribution: SizeFixed, Min: 512, Max: 512}},
		{"uniform", 1, Prefill{}, 0, false, 20, &Values{Distribution: SizeUniform, Min: 10, Max: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			w := p.Component(tt.component).Workload
			got := []any{w.Pipeline, w.Prefill, w.TTL, w.Cleanup, w.ValueSize, *w.Values}
			want := []any{tt.pipeline, tt.prefill, tt.ttl, tt.cleanup, tt.valueSize, *tt.values}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pipeline, prefill, ttl, cleanup, value_size, values = %v, want %v", got, want)
			}
		})
	}
	c := p.Component("sessions")
	if o := c.SLO.Minimum[1]; o.Metric != MetricHitRate || o.Threshold.Ratio != 0.99 {
		t.Errorf("minimum get hit_rate = %+v, want a 99%% bar", o)
	}
	if !c.SLO.Minimum[1].MetBy(0.995, 100) || c.SLO.Minimum[1].MetBy(0.98, 100) {
		t.Error("a hit_rate bar is met by more hits, not fewer")
	}
}
