package history

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

func sampleResult(start time.Time, p99 int64) *result.Result {
	return &result.Result{
		Schema: result.Schema, Verdict: status.VerdictPass, Complete: true, Seed: 1, StartedAt: start,
		MeasuredNS: int64(10 * time.Second), Plan: "plan.yaml",
		Runner: &result.Runner{CPUs: 2, WakeupHistogram: "big"},
		Components: []result.ComponentResult{{
			Name: "cache", WorkloadHash: "w1",
			Operations: []result.OperationResult{{Name: "get", Count: 5000, LatencyNS: result.Percentiles{P99: p99},
				Histogram: "HISTFAAA", Intervals: []result.Interval{{Histogram: "per-interval"}}}},
			Objectives: []status.ObjectiveResult{{Tier: "minimum", Operation: "get", Metric: "p99", Status: status.Pass}},
		}},
	}
}

// TestStoreAddsReadsAndBoundsRuns: runs come back oldest first with what
// the trend needs (percentiles, histogram, objectives, source), without
// the per-interval histograms, and the store keeps at most Keep of them.
func TestStoreAddsReadsAndBoundsRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hist")
	s := &Store{Dir: dir, Keep: 3}
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	src := Source{Commit: "0123456789abcdef", Repository: "acme/cache", ServerURL: "https://github.com"}
	// Added out of order: the store orders by start time.
	for _, i := range []int{2, 0, 1, 4, 3} {
		run := FromResult(sampleResult(base.Add(time.Duration(i)*time.Hour), int64(1000+i)), src, base)
		if _, err := s.Add(run); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("store holds %d runs, want Keep = 3", len(runs))
	}
	for i, r := range runs {
		if want := int64(1002 + i); r.Components[0].Operations[0].LatencyNS.P99 != want {
			t.Errorf("run %d has p99 %d, want %d (the newest three, oldest first)", i, r.Components[0].Operations[0].LatencyNS.P99, want)
		}
	}
	r := runs[0]
	if r.Source.CommitURL() != "https://github.com/acme/cache/commit/0123456789abcdef" || r.Source.Label() != "0123456" {
		t.Errorf("source %+v: commit URL %q, label %q", r.Source, r.Source.CommitURL(), r.Source.Label())
	}
	if r.Components[0].Operations[0].Histogram != "HISTFAAA" || len(r.Components[0].Objectives) != 1 || r.Runner == nil || r.Runner.CPUs != 2 {
		t.Errorf("run lost what the trend needs: %+v", r)
	}
	data, err := os.ReadFile(filepath.Join(dir, r.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "per-interval") || strings.Contains(string(data), `"big"`) {
		t.Errorf("a history file holds the per-interval or runner histograms; it must keep summaries only:\n%s", data)
	}
}

// TestStoreConcurrentWriters: writers adding at once never lose or mix a
// run: every file is its own, written atomically.
func TestStoreConcurrentWriters(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The same start instant: the random suffix keeps them apart.
			_, err := s.Add(FromResult(sampleResult(start, int64(i)), Source{}, start))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, r := range runs {
		seen[r.Components[0].Operations[0].LatencyNS.P99] = true
	}
	if len(runs) != 16 || len(seen) != 16 {
		t.Errorf("16 concurrent writers left %d runs (%d distinct)", len(runs), len(seen))
	}
}

// TestDecodeRunSchemas: this version reads its schema, ignores fields a
// later minor version adds, and refuses a later major schema or a foreign
// file by name.
func TestDecodeRunSchemas(t *testing.T) {
	tests := []struct {
		name, data, err string
	}{
		{"its own schema, with a field it does not know",
			`{"schema":"tailgate.history/v1","id":"x","started_at":"2026-12-01T10:00:00Z","added_later":{"a":1},"components":[]}`, ""},
		{"a later major schema", `{"schema":"tailgate.history/v2","started_at":"2026-12-01T10:00:00Z"}`, "written by a later tailgate"},
		{"a result file is not a history run", `{"schema":"tailgate.result/v1","started_at":"2026-12-01T10:00:00Z"}`, `want "tailgate.history/v1"`},
		{"not JSON", `garbage`, "not a tailgate history run"},
		{"no start time", `{"schema":"tailgate.history/v1"}`, "started_at is missing"},
		{"a negative count", `{"schema":"tailgate.history/v1","started_at":"2026-12-01T10:00:00Z","components":[{"name":"c","operations":[{"name":"get","count":-1}]}]}`, "negative count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRun([]byte(tt.data), "run.json")
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("want it read, got %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("want an error holding %q, got %v", tt.err, err)
			}
		})
	}
}

// TestStoreMissingDirIsEmpty: a first run has no history yet.
func TestStoreMissingDirIsEmpty(t *testing.T) {
	runs, err := (&Store{Dir: filepath.Join(t.TempDir(), "none")}).Runs()
	if err != nil || len(runs) != 0 {
		t.Errorf("a missing store read as %d runs, %v; want none, no error", len(runs), err)
	}
}

func TestSourceFromEnv(t *testing.T) {
	env := map[string]string{"GITHUB_SHA": "abc", "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "42", "GITHUB_REPOSITORY": "o/r", "GITHUB_SERVER_URL": "https://github.com/"}
	s := SourceFromEnv(func(k string) string { return env[k] })
	if s.Commit != "abc" || s.Ref != "refs/heads/main" || s.RunID != "42" || s.CommitURL() != "https://github.com/o/r/commit/abc" {
		t.Errorf("source %+v, commit URL %q", s, s.CommitURL())
	}
}

// FuzzDecodeRun: no input makes the decoder panic, and what it accepts
// has a start time.
func FuzzDecodeRun(f *testing.F) {
	f.Add([]byte(`{"schema":"tailgate.history/v1","started_at":"2026-12-01T10:00:00Z","components":[{"name":"c","operations":[{"name":"get","count":1}]}]}`))
	f.Add([]byte(`{"schema":"tailgate.history/v2"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := DecodeRun(data, "fuzz.json")
		if err == nil && run.StartedAt.IsZero() {
			t.Errorf("accepted a run without a start time: %q", data)
		}
	})
}
