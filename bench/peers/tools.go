package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/result"
)

// grpcMethod and grpcBody are the call both gRPC tools make.
const (
	grpcMethod = "grpc.testing.TestService/UnaryCall"
	grpcBody   = `{"responseSize": 16, "payload": {"body": "dGFpbGdhdGUgYmVuY2g="}}`
)

// kvKeys is how many keys the key-value scenarios spread over, every one
// preloaded with a kvValueSize value, so each get is a hit.
const (
	kvKeys      = 10_000
	kvValueSize = 256
	kvPrefix    = "tailgate:bench:"
)

// peers are the paths of the peer tools; empty when not installed.
type peers struct {
	vegeta, ghz, redisBenchmark, memcaslap, wrk2 string
}

// wrk2Missing is what the harness says when it finds no wrk2: the HTTP
// open-loop scenario is skipped, the others run.
const wrk2Missing = "wrk2 not found: build it from github.com/giltene/wrk2 (make; needs libssl-dev zlib1g-dev)"

// findPeers looks for the peer tools on PATH and in Go's bin directory;
// wrk2 is the -wrk2 path when given.
func findPeers(wrk2 string) peers {
	gobin := filepath.Join(os.Getenv("HOME"), "go", "bin")
	if gp := os.Getenv("GOPATH"); gp != "" {
		gobin = filepath.Join(strings.Split(gp, string(os.PathListSeparator))[0], "bin")
	}
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := filepath.Join(gobin, name); fileExists(p) {
			return p
		}
		return ""
	}
	if wrk2 == "" {
		wrk2 = find("wrk2")
	} else if !fileExists(wrk2) {
		wrk2 = ""
	}
	return peers{vegeta: find("vegeta"), ghz: find("ghz"), redisBenchmark: find("redis-benchmark"), memcaslap: find("memcaslap"), wrk2: wrk2}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// missing is the error of a scenario whose peer is not installed.
func missing(tool, install string) error {
	return fmt.Errorf("%s is not installed (%s)", tool, install)
}

// build compiles a package of the repository into dir.
func build(ctx context.Context, root, dir, pkg, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// usage is what the kernel accounted to one child process.
type usage struct {
	cpu   time.Duration
	rssKB int64
	wall  time.Duration
}

// timeBin is GNU time, through which children run when it is installed:
// the kernel's peak RSS of a child started straight from this harness
// would start from the harness's own (a vfork'd child shares its memory
// until exec, and exec keeps the larger high-water mark), so a small C
// tool would be charged the harness's tens of megabytes.
var timeBin = func() string {
	if p, err := exec.LookPath("time"); err == nil && !strings.HasPrefix(p, "time") {
		return p
	}
	if fileExists("/usr/bin/time") {
		return "/usr/bin/time"
	}
	return ""
}()

// runChild runs a command to its end, bounded by limit, and returns its
// resource usage and standard output.
func runChild(ctx context.Context, limit time.Duration, env []string, name string, args ...string) (usage, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var rssFile string
	argv := append([]string{name}, args...)
	if timeBin != "" {
		f, err := os.CreateTemp("", "tailgate-bench-rss-")
		if err != nil {
			return usage{}, nil, err
		}
		f.Close()
		rssFile = f.Name()
		defer os.Remove(rssFile)
		argv = append([]string{timeBin, "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// Its own process group, so a run past its limit ends with the tool
	// under GNU time, not only time itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	u := usage{wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		// GNU time's own CPU is a few milliseconds; the child's is
		// included, as time waits for it.
		u.cpu = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			u.rssKB = ru.Maxrss
		}
	}
	if rssFile != "" {
		if b, rerr := os.ReadFile(rssFile); rerr == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if kb, perr := strconv.ParseInt(lines[len(lines)-1], 10, 64); perr == nil {
				u.rssKB = kb
			}
		}
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(name), strings.Join(args, " "), err, clip(stdout.Bytes()), clip(stderr.Bytes()))
	}
	return u, stdout.Bytes(), err
}

func clip(b []byte) []byte {
	if len(b) > 2000 {
		return append(b[:2000:2000], "…\n"...)
	}
	return b
}

// limitFor bounds a load run of length d.
func limitFor(d time.Duration) time.Duration { return 2*d + time.Minute }

// httpPlan is a plan of one GET at rate for d on 8 connections.
func httpPlan(addr string, rate float64, d time.Duration) string {
	return httpPlanOn(addr, rate, 8, d)
}

// httpPlanOn is a plan of one GET at rate for d on conns connections.
func httpPlanOn(addr string, rate float64, conns int, d time.Duration) string {
	return requestPlan("web", "http://"+addr, rate, d,
		fmt.Sprintf("      connections: %d\n", conns),
		"{name: home, method: GET, path: /}")
}

// grpcPlan is a plan of one unary call at rate for d, on 4 connections.
func grpcPlan(addr string, rate float64, d time.Duration) string {
	return grpcStreamsPlan(addr, rate, d, 4, 1)
}

// grpcStreamsPlan is a plan of one unary call at rate for d, on conns
// connections of streams streams each.
func grpcStreamsPlan(addr string, rate float64, d time.Duration, conns, streams int) string {
	return requestPlan("rpc", "grpc://"+addr, rate, d,
		fmt.Sprintf("      connections: %d\n      streams: %d\n", conns, streams),
		fmt.Sprintf("{name: unary, method: %s, body: '%s'}", grpcMethod, grpcBody))
}

// h2StreamsPlan is a plan of one GET over h2c at rate for d, on conns
// connections of streams streams each.
func h2StreamsPlan(addr string, rate float64, d time.Duration, conns, streams int) string {
	return requestPlan("web", "http://"+addr, rate, d,
		fmt.Sprintf("      protocol: h2c\n      connections: %d\n      streams: %d\n", conns, streams),
		"{name: home, method: GET, path: /}")
}

// requestPlan is a plan of one component, name, sending the one request
// to target at rate for d, with no warmup; conns holds the workload's
// lines that place it on connections (each indented and ending in a
// newline).
func requestPlan(name, target string, rate float64, d time.Duration, conns, request string) string {
	return fmt.Sprintf(`version: 1
defaults: {duration: %s, warmup: 0s, seed: 1}
components:
  - name: %s
    target: %s
    workload:
      rate: %g
      arrival: uniform
%s      timeout: 1s
      keys: {count: 1000, distribution: uniform, prefix: "k"}
      requests:
        - %s
    slo:
      minimum:
        all: {error_rate: 1%%}
`, d, name, target, rate, conns, request)
}

// kvPlan is a key-value plan; rate 0 is closed loop. An open loop gets a
// second of warmup, so the measured window starts steady.
func kvPlan(target string, rate float64, conns int, d time.Duration, mix, arrival string) string {
	warmup := "0s"
	if rate > 0 {
		warmup = "1s"
	}
	return fmt.Sprintf(`version: 1
defaults: {duration: %s, warmup: %s, seed: 1}
components:
  - name: kv
    target: %s
    workload:
      rate: %g
      arrival: %s
      connections: %d
      timeout: 1s
      keys: {count: %d, distribution: uniform, prefix: "%s"}
      value_size: %d
      mix: {%s}
    slo:
      minimum:
        all: {error_rate: 1%%}
`, d, warmup, target, rate, arrival, conns, kvKeys, kvPrefix, kvValueSize, mix)
}

// pipelinedPlan adds workload.pipeline depth to a kvPlan.
func pipelinedPlan(plan string, depth int) string {
	return strings.Replace(plan, "      connections:", fmt.Sprintf("      pipeline: %d\n      connections:", depth), 1)
}

// runTailgate runs the tailgate binary on a plan and reads its result.
func (b *bench) runTailgate(ctx context.Context, name string, round int, plan string) (measurement, error) {
	return b.runTailgateBinary(ctx, b.tailgate, b.cfg.tailgateEnv, name, round, plan)
}

// runAlt runs the -alt binary, with -alt-env, on a plan.
func (b *bench) runAlt(ctx context.Context, name string, round int, plan string) (measurement, error) {
	m, err := b.runTailgateBinary(ctx, b.cfg.alt, b.cfg.altEnv, name+"-alt", round, plan)
	m.tool = "tailgate-alt"
	return m, err
}

// verdictExit is whether err is tailgate's exit 1 (a missed bar) or 3 (a run
// that failed too often, or could not be judged, which still writes its
// result): verdicts, whose work was done and is measured.
func verdictExit(err error) bool {
	var exit *exec.ExitError
	return errors.As(err, &exit) && (exit.ExitCode() == 1 || exit.ExitCode() == 3)
}

// runTailgateBinary runs a tailgate binary in env on a plan and reads its
// result.
func (b *bench) runTailgateBinary(ctx context.Context, bin string, env []string, name string, round int, plan string) (measurement, error) {
	base := filepath.Join(b.tmp, fmt.Sprintf("%s-%d", name, round))
	if err := os.WriteFile(base+".yaml", []byte(plan), 0o644); err != nil {
		return measurement{}, err
	}
	env = append([]string(nil), env...)
	if b.cfg.profiles != "" {
		env = append(env, "TAILGATE_CPUPROFILE="+filepath.Join(b.cfg.profiles, fmt.Sprintf("%s-%d.pprof", name, round)))
	}
	u, _, err := runChild(ctx, limitFor(time.Minute), env, bin, "run", "-c", base+".yaml", "--out", base+".json")
	if verdictExit(err) && fileExists(base+".json") {
		err = nil
	}
	if err != nil {
		return measurement{}, err
	}
	res, err := result.Read(base + ".json")
	if err != nil {
		return measurement{}, err
	}
	if len(res.Components) != 1 {
		return measurement{}, fmt.Errorf("result has %d components", len(res.Components))
	}
	all := res.Components[0].Operation("all")
	if all == nil {
		return measurement{}, errors.New("result has no \"all\" operation")
	}
	m := measurement{
		tool: "tailgate", requests: all.Count + all.Errors + res.Components[0].WarmupOperations, errors: all.Errors,
		cpu: u.cpu, rssKB: u.rssKB, wall: u.wall,
		opsPerS: all.AchievedRate, p99: time.Duration(all.LatencyNS.P99), p50: time.Duration(all.LatencyNS.P50),
		serviceP50: time.Duration(all.ServiceNS.P50), serviceP99: time.Duration(all.ServiceNS.P99),
	}
	if n := all.Count + all.Errors; n > 0 {
		m.late = float64(all.Late) / float64(n)
		m.intended, m.achieved = n, float64(all.Count)/float64(n)
	}
	// Completions per full interval of the measured window: the last
	// interval also takes everything completed after the window.
	if full := len(all.Intervals) - 1; full > 0 && res.IntervalNS > 0 {
		var n int64
		for _, iv := range all.Intervals[:full] {
			n += iv.Count + iv.Errors
		}
		perSecond := float64(n) / (float64(full) * float64(res.IntervalNS) / 1e9)
		if asked := res.Components[0].AskedRate; asked > 0 {
			m.onTime = perSecond / asked
		}
	}
	return m, nil
}

// runVegeta attacks the HTTP server with vegeta and reads its report.
func (b *bench) runVegeta(ctx context.Context, addr string, rate int, d time.Duration) (measurement, error) {
	if b.peers.vegeta == "" {
		return measurement{}, missing("vegeta", "go install github.com/tsenart/vegeta/v12@v12.13.0")
	}
	targets := filepath.Join(b.tmp, "vegeta-targets")
	if err := os.WriteFile(targets, []byte("GET http://"+addr+"/\n"), 0o644); err != nil {
		return measurement{}, err
	}
	out := filepath.Join(b.tmp, "vegeta.bin")
	u, _, err := runChild(ctx, limitFor(d), nil, b.peers.vegeta, "attack", "-targets", targets,
		"-rate", fmt.Sprintf("%d/s", rate), "-duration", d.String(), "-output", out)
	if err != nil {
		return measurement{}, err
	}
	_, rep, err := runChild(ctx, time.Minute, nil, b.peers.vegeta, "report", "-type", "json", out)
	if err != nil {
		return measurement{}, err
	}
	var r struct {
		Latencies struct {
			P99 int64 `json:"99th"`
		} `json:"latencies"`
		Requests   int64   `json:"requests"`
		Throughput float64 `json:"throughput"`
		Success    float64 `json:"success"`
	}
	if err := json.Unmarshal(rep, &r); err != nil {
		return measurement{}, fmt.Errorf("vegeta report: %w", err)
	}
	if r.Success < 1 {
		return measurement{}, fmt.Errorf("vegeta: success ratio %g", r.Success)
	}
	return measurement{requests: r.Requests, cpu: u.cpu, rssKB: u.rssKB, wall: u.wall,
		opsPerS: r.Throughput, p99: time.Duration(r.Latencies.P99)}, nil
}

// runGhz calls the gRPC server with ghz and reads its JSON report.
func (b *bench) runGhz(ctx context.Context, addr string, rate int, d time.Duration) (measurement, error) {
	return b.runGhzConcurrency(ctx, addr, rate, d, 8, 4)
}

// runGhzConcurrency is runGhz with concurrency calls at once on conns
// connections.
func (b *bench) runGhzConcurrency(ctx context.Context, addr string, rate int, d time.Duration, concurrency, conns int) (measurement, error) {
	if b.peers.ghz == "" {
		return measurement{}, missing("ghz", "go install github.com/bojand/ghz/cmd/ghz@v0.93.0")
	}
	u, out, err := runChild(ctx, limitFor(d), nil, b.peers.ghz, "--insecure", "--call", grpcMethod, "-d", grpcBody,
		"--rps", strconv.Itoa(rate), "-z", d.String(), "-c", strconv.Itoa(concurrency), "--connections", strconv.Itoa(conns), "-O", "json", addr)
	if err != nil {
		return measurement{}, err
	}
	var r struct {
		Count   int64   `json:"count"`
		RPS     float64 `json:"rps"`
		Latency []struct {
			Percentage int   `json:"percentage"`
			Latency    int64 `json:"latency"`
		} `json:"latencyDistribution"`
		Status map[string]int64 `json:"statusCodeDistribution"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return measurement{}, fmt.Errorf("ghz report: %w", err)
	}
	m := measurement{requests: r.Count, cpu: u.cpu, rssKB: u.rssKB, wall: u.wall, opsPerS: r.RPS}
	for _, l := range r.Latency {
		if l.Percentage == 99 {
			m.p99 = time.Duration(l.Latency)
		}
	}
	if ok := r.Status["OK"]; ok < r.Count*99/100 {
		return measurement{}, fmt.Errorf("ghz: only %d of %d calls OK: %v", ok, r.Count, r.Status)
	}
	return m, nil
}

// runRedisBenchmark runs n GETs on 8 connections with redis-benchmark.
func (b *bench) runRedisBenchmark(ctx context.Context, addr string, conns int, n int64) (measurement, error) {
	return b.runRedisBenchmarkPipelined(ctx, addr, conns, n, 1)
}

// runRedisBenchmarkPipelined is runRedisBenchmark with depth commands in
// flight per connection (-P).
func (b *bench) runRedisBenchmarkPipelined(ctx context.Context, addr string, conns int, n int64, depth int) (measurement, error) {
	if b.peers.redisBenchmark == "" {
		return measurement{}, missing("redis-benchmark", "apt-get install redis-tools")
	}
	host, port, _ := strings.Cut(addr, ":")
	u, out, err := runChild(ctx, limitFor(time.Minute), nil, b.peers.redisBenchmark, "-h", host, "-p", port,
		"-c", strconv.Itoa(conns), "-n", strconv.FormatInt(n, 10), "-P", strconv.Itoa(depth), "-t", "get", "-r", strconv.Itoa(kvKeys), "--csv")
	if err != nil {
		return measurement{}, err
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return measurement{}, fmt.Errorf("redis-benchmark csv: %w", err)
	}
	for _, row := range rows {
		if len(row) >= 7 && row[0] == "GET" {
			rps, err1 := strconv.ParseFloat(row[1], 64)
			p99, err2 := strconv.ParseFloat(row[6], 64)
			if err := errors.Join(err1, err2); err != nil {
				return measurement{}, fmt.Errorf("redis-benchmark csv: %w", err)
			}
			return measurement{requests: n, cpu: u.cpu, rssKB: u.rssKB, wall: u.wall, opsPerS: rps,
				p99: time.Duration(p99 * 1e6)}, nil
		}
	}
	return measurement{}, fmt.Errorf("redis-benchmark printed no GET row: %s", out)
}

// memcaslapConfig asks for gets only, of 256-byte values under 16-byte
// keys (memcaslap sets each key once before getting it).
const memcaslapConfig = `key
16 16 1
value
256 256 1
cmd
0 0.0
1 1.0
`

var (
	memcaslapTotal = regexp.MustCompile(`Run time: ([0-9.]+)s Ops: ([0-9]+) TPS: ([0-9]+)`)
	memcaslapLog2  = regexp.MustCompile(`^\s*(\d+):((?:\s+\d+)+)\s*$`)
)

// runMemcaslap loads memcached with memcaslap, one thread per core.
func (b *bench) runMemcaslap(ctx context.Context, addr string, conns int, d time.Duration) (measurement, error) {
	if b.peers.memcaslap == "" {
		return measurement{}, missing("memcaslap", "apt-get install libmemcached-tools")
	}
	cfgPath := filepath.Join(b.tmp, "memcaslap.cfg")
	if err := os.WriteFile(cfgPath, []byte(memcaslapConfig), 0o644); err != nil {
		return measurement{}, err
	}
	secs := fmt.Sprintf("%ds", int(math.Round(d.Seconds())))
	u, out, err := runChild(ctx, limitFor(d), nil, b.peers.memcaslap, "-s", addr, "-T", "2", "-c", strconv.Itoa(conns),
		"-t", secs, "-w", "1k", "-S", secs, "-F", cfgPath)
	if err != nil {
		return measurement{}, err
	}
	mt := memcaslapTotal.FindSubmatch(out)
	if mt == nil {
		return measurement{}, fmt.Errorf("memcaslap printed no total: %s", clip(out))
	}
	ops, _ := strconv.ParseInt(string(mt[2]), 10, 64)
	tps, _ := strconv.ParseFloat(string(mt[3]), 64)
	m := measurement{requests: ops, cpu: u.cpu, rssKB: u.rssKB, wall: u.wall, opsPerS: tps}
	if bound, ok := memcaslapP99(out); ok {
		m.p99 = bound
		m.p99Note = "< " + bound.String() + " (log2)"
	}
	return m, nil
}

// memcaslapP99 reads the upper edge of the log2 bucket holding the p99 of
// memcaslap's last "Get Statistics" (microsecond buckets [2^k, 2^(k+1))).
func memcaslapP99(out []byte) (time.Duration, bool) {
	i := bytes.LastIndex(out, []byte("Get Statistics"))
	if i < 0 {
		return 0, false
	}
	var counts []int64
	first := -1
	sc := bufio.NewScanner(bytes.NewReader(out[i:]))
	seenDist := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Log2 Dist") {
			seenDist = true
			continue
		}
		if !seenDist {
			continue
		}
		m := memcaslapLog2.FindStringSubmatch(line)
		if m == nil {
			break
		}
		k, _ := strconv.Atoi(m[1])
		if first < 0 {
			first = k
		}
		for _, f := range strings.Fields(m[2]) {
			c, _ := strconv.ParseInt(f, 10, 64)
			counts = append(counts, c)
		}
	}
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0, false
	}
	var cum int64
	for j, c := range counts {
		cum += c
		if float64(cum) >= 0.99*float64(total) {
			return time.Duration(1<<(first+j+1)) * time.Microsecond, true
		}
	}
	return 0, false
}

// wrk2Latency is one line of wrk2's --latency percentiles, e.g.
// " 99.000%   11.49ms".
var wrk2Latency = regexp.MustCompile(`(?m)^\s*(50|99)\.000%\s+([0-9.]+)(us|ms|s)\s*$`)

var (
	wrk2Requests = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in ([0-9.]+)(ms|s|m)`)
	wrk2Errors   = regexp.MustCompile(`(?m)^\s*(?:Non-2xx or 3xx responses|Socket errors):(.*)$`)
)

// runWrk2 loads the HTTP server with wrk2 at rate for d on conns
// connections and two threads, the machine's cores, and reads its
// --latency (-U) report: wrk2's p50 and p99 are measured from each
// request's intended start (its "Recorded Latency", corrected), its
// service p50 and p99 from the actual send ("Uncorrected Latency").
func (b *bench) runWrk2(ctx context.Context, addr string, rate, conns int, d time.Duration) (measurement, error) {
	if b.peers.wrk2 == "" {
		return measurement{}, errors.New(wrk2Missing)
	}
	u, out, err := runChild(ctx, limitFor(d), nil, b.peers.wrk2, "-t", "2", "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(math.Round(d.Seconds()))), "-R", strconv.Itoa(rate), "--latency", "-U", "http://"+addr+"/")
	if err != nil {
		return measurement{}, err
	}
	return parseWrk2(out, u)
}

// parseWrk2 reads wrk2's report: the request count, the corrected and the
// uncorrected p50 and p99, and any error line.
func parseWrk2(out []byte, u usage) (measurement, error) {
	if e := wrk2Errors.FindSubmatch(out); e != nil {
		return measurement{}, fmt.Errorf("wrk2 reported errors:%s", e[1])
	}
	rq := wrk2Requests.FindSubmatch(out)
	if rq == nil {
		return measurement{}, fmt.Errorf("wrk2 printed no request count: %s", clip(out))
	}
	n, _ := strconv.ParseInt(string(rq[1]), 10, 64)
	secs, _ := strconv.ParseFloat(string(rq[2]), 64)
	switch string(rq[3]) {
	case "ms":
		secs /= 1e3
	case "m":
		secs *= 60
	}
	lat := wrk2Latency.FindAllSubmatch(out, -1)
	if len(lat) != 4 {
		return measurement{}, fmt.Errorf("wrk2 printed %d of the 4 p50 and p99 lines of --latency -U: %s", len(lat), clip(out))
	}
	var ds [4]time.Duration
	for i, l := range lat {
		v, err := strconv.ParseFloat(string(l[2]), 64)
		if err != nil {
			return measurement{}, fmt.Errorf("wrk2 latency %q: %w", l[0], err)
		}
		unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[string(l[3])]
		ds[i] = time.Duration(v * unit)
	}
	m := measurement{requests: n, cpu: u.cpu, rssKB: u.rssKB, wall: u.wall,
		p50: ds[0], p99: ds[1], serviceP50: ds[2], serviceP99: ds[3]}
	if secs > 0 {
		m.opsPerS = float64(n) / secs
	}
	return m, nil
}
