package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/result"
)

// The judge scenario's soaks: a result of each length is the scenario's one
// measured run laid end to end (result.Concat) until it is that long.
const (
	judgeShort = 10 * time.Minute
	judgeLong  = time.Hour
	// judgeRun is the measured run's length: a whole p99_window window.
	judgeRun = 10 * time.Second
)

// judgeScenario measures what judging and reporting a long soak's result
// costs: tailgate check and tailgate report on the result of an hour's soak
// against check on a ten minutes' one, peak RSS and CPU. The plan judges the
// run's course too (p99_window, drift), which reads every interval. With
// -alt, the -alt binary checks and reports the hour's result beside the
// built one.
func (b *bench) judgeScenario() *scenario {
	j := &judgeFiles{b: b}
	sides := []side{
		{"check " + judgeShort.String(), j.side(b.tailgate, "check", judgeShort)},
		{"check " + judgeLong.String(), j.side(b.tailgate, "check", judgeLong)},
		{"report " + judgeLong.String(), j.side(b.tailgate, "report", judgeLong)},
	}
	if b.cfg.alt != "" {
		sides = append(sides,
			side{"alt check " + judgeLong.String(), j.side(b.cfg.alt, "check", judgeLong)},
			side{"alt report " + judgeLong.String(), j.side(b.cfg.alt, "report", judgeLong)})
	}
	return &scenario{
		name:  "judge",
		title: fmt.Sprintf("tailgate check and report on the result of a %s soak (HTTP at 2,000 req/s, with p99_window and drift) against check on a %s one", judgeLong, judgeShort),
		sides: sides,
		judge: j.goals,
	}
}

// judgeFiles makes the judge scenario's results and plans once, on the
// first side's first round.
type judgeFiles struct {
	b    *bench
	once sync.Once
	err  error
	// bytes is each result file's size, by soak length.
	bytes map[time.Duration]int64
}

// judgePlan is the plan of a soak of length d against the HTTP server: a
// minimum bar, and the run's course judged by p99_window and drift.
func judgePlan(addr string, d time.Duration) string {
	plan := requestPlan("web", "http://"+addr, 2000, d, "      connections: 8\n", "{name: home, method: GET, path: /}")
	return strings.Replace(plan, "        all: {error_rate: 1%}\n",
		"        all: {error_rate: 1%}\n        home: {p99: 50ms, p99_window: {window: 10s, max: 50ms}, drift: +50%}\n", 1)
}

func (j *judgeFiles) path(d time.Duration, ext string) string {
	return filepath.Join(j.b.tmp, "judge-"+d.String()+ext)
}

// prepare runs the one measured soak and lays it end to end into the
// results of each length, with a plan of each length beside them.
func (j *judgeFiles) prepare(ctx context.Context) error {
	d := judgeRun
	base := j.path(d, "")
	if err := os.WriteFile(base+".yaml", []byte(judgePlan(j.b.srv.http, d)), 0o644); err != nil {
		return err
	}
	if _, _, err := runChild(ctx, limitFor(d), nil, j.b.tailgate, "run", "-c", base+".yaml", "--out", base+".json"); err != nil && !(verdictExit(err) && fileExists(base+".json")) {
		return err
	}
	one, err := result.Read(base + ".json")
	if err != nil {
		return err
	}
	j.bytes = map[time.Duration]int64{}
	for _, length := range []time.Duration{judgeShort, judgeLong} {
		parts := make([]*result.Result, int(length/d))
		for i := range parts {
			parts[i] = one
		}
		long, err := result.Concat(parts)
		if err != nil {
			return err
		}
		// One run as long, not segments of an interleaved one.
		long.Pairing = nil
		p := j.path(length, "")
		if err := long.WriteFile(p + ".json"); err != nil {
			return err
		}
		if err := os.WriteFile(p+".yaml", []byte(judgePlan(j.b.srv.http, length)), 0o644); err != nil {
			return err
		}
		st, err := os.Stat(p + ".json")
		if err != nil {
			return err
		}
		j.bytes[length] = st.Size()
	}
	return nil
}

// side is one binary's check or report of the result of a soak of length.
func (j *judgeFiles) side(bin, command string, length time.Duration) func(ctx context.Context, r int) (measurement, error) {
	return func(ctx context.Context, r int) (measurement, error) {
		if j.once.Do(func() { j.err = j.prepare(ctx) }); j.err != nil {
			return measurement{}, j.err
		}
		p := j.path(length, "")
		args := []string{"check", "-c", p + ".yaml", p + ".json"}
		if command == "report" {
			args = []string{"report", p + ".json", "--report-dir", fmt.Sprintf("%s-report-%d", p, r)}
		}
		u, _, err := runChild(ctx, 10*time.Minute, nil, bin, args...)
		if err != nil && !verdictExit(err) {
			return measurement{}, err
		}
		return measurement{cpu: u.cpu, rssKB: u.rssKB, wall: u.wall}, nil
	}
}

// goals: the hour's check against the ten minutes' (memory that grows no
// faster than the result does), each command's peak RSS against the size of
// the result it read, and with -alt the built binary against it.
func (j *judgeFiles) goals(runs [][]measurement) []goal {
	mb := func(side int) float64 {
		return medianOf(runs, side, func(m measurement) float64 { return float64(m.rssKB) / 1024 })
	}
	ratio := func(a, b int) float64 {
		rs := make([]float64, len(runs))
		for i, ms := range runs {
			rs[i] = float64(ms[a].rssKB) / float64(ms[b].rssKB)
		}
		return stats.Median(rs)
	}
	grows := float64(j.bytes[judgeLong]) / float64(j.bytes[judgeShort])
	fileMB := float64(j.bytes[judgeLong]) / (1 << 20)
	out := []goal{{
		measure:  fmt.Sprintf("check, %s soak's result vs %s soak's: peak RSS", judgeLong, judgeShort),
		tailgate: fmt.Sprintf("%.1f MB", mb(1)), peer: fmt.Sprintf("%.1f MB", mb(0)),
		ratio: ratio(1, 0), target: fmt.Sprintf("≤ %.1f× (the result grows %.1f×)", grows, grows), met: ratio(1, 0) <= grows,
	}}
	for _, s := range []struct {
		name string
		side int
	}{{"check", 1}, {"report", 2}} {
		r := mb(s.side) / fileMB
		out = append(out, goal{
			measure:  fmt.Sprintf("%s of a %s soak's result: peak RSS against the result file", s.name, judgeLong),
			tailgate: fmt.Sprintf("%.1f MB", mb(s.side)), peer: fmt.Sprintf("%.1f MB file", fileMB),
			ratio: r, target: "≤ 20×", met: r <= 20,
		})
	}
	if len(runs) > 0 && len(runs[0]) == 5 {
		for _, s := range []struct {
			name      string
			side, alt int
		}{{"check", 1, 3}, {"report", 2, 4}} {
			out = append(out, goal{
				measure:  fmt.Sprintf("%s of a %s soak's result: peak RSS, built vs -alt", s.name, judgeLong),
				tailgate: fmt.Sprintf("%.1f MB", mb(s.side)), peer: fmt.Sprintf("%.1f MB (-alt)", mb(s.alt)),
				ratio: ratio(s.side, s.alt), info: true,
			})
		}
	}
	return out
}
