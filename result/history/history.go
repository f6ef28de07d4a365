// Package history is tailgate's history of runs: a directory holding one
// small file per run, each a summary of a result (per operation: counts,
// percentiles and the whole-run histogram; the objectives and the verdict;
// the runner's measurement; the commit and CI run it measured), from which
// the trend tier judges creep and `tailgate history show` draws trends.
//
// The store is made for CI: a plain directory that can live in an actions
// cache, an artifact or a git branch. Every run is its own file, named by
// its start time and a random suffix and written atomically (temporary file
// and rename), so concurrent writers never touch one file. Files keep
// summaries, never the per-interval histograms, and the store keeps at most
// Keep runs (the oldest are removed), so it stays small for any number of
// runs. A file carries its schema; this version reads its own schema and
// ignores fields it does not know, so a later version's additions do not
// stop it, while a later major schema is refused by name.
package history

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/atomicfile"
	"github.com/tailgate-dev/tailgate/result"
)

// Schema identifies a history file.
const Schema = "tailgate.history/v1"

// schemaPrefix starts every history schema; the version follows it.
const schemaPrefix = "tailgate.history/"

// DefaultKeep is how many runs a store keeps unless told otherwise.
const DefaultKeep = 500

// maxFileSize bounds one history file as read: a summary is a few
// kilobytes per operation.
const maxFileSize = 16 << 20

// Run is one run's summary: one file of the store.
type Run struct {
	Schema string `json:"schema"`
	// ID is the file's name without .json; it orders runs that started
	// at the same instant.
	ID string `json:"id"`
	// Source is what was measured: the commit and the CI run.
	Source     Source    `json:"source"`
	RecordedAt time.Time `json:"recorded_at"`
	// StartedAt is the run's start (its result's started_at): runs are
	// ordered by it.
	StartedAt  time.Time      `json:"started_at"`
	Plan       string         `json:"plan,omitempty"`
	Seed       int64          `json:"seed"`
	Verdict    status.Verdict `json:"verdict"`
	Complete   bool           `json:"complete"`
	MeasuredNS int64          `json:"measured_ns"`
	Runner     *Runner        `json:"runner,omitempty"`
	Components []Component    `json:"components"`
}

// Source names what a run measured. From the environment of a GitHub
// Actions job (SourceFromEnv) or from flags.
type Source struct {
	Commit     string `json:"commit,omitempty"`
	Ref        string `json:"ref,omitempty"`
	RunID      string `json:"run_id,omitempty"`
	RunAttempt string `json:"run_attempt,omitempty"`
	// Repository is owner/name, ServerURL the forge's address
	// (https://github.com): with Commit they link the run to its commit.
	Repository string `json:"repository,omitempty"`
	ServerURL  string `json:"server_url,omitempty"`
}

// SourceFromEnv reads a run's source from GitHub Actions' variables
// (GITHUB_SHA, GITHUB_REF, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT,
// GITHUB_REPOSITORY, GITHUB_SERVER_URL); unset ones stay empty.
func SourceFromEnv(getenv func(string) string) Source {
	return Source{
		Commit: getenv("GITHUB_SHA"), Ref: getenv("GITHUB_REF"), RunID: getenv("GITHUB_RUN_ID"),
		RunAttempt: getenv("GITHUB_RUN_ATTEMPT"), Repository: getenv("GITHUB_REPOSITORY"), ServerURL: getenv("GITHUB_SERVER_URL"),
	}
}

// CommitURL is the commit's page on its forge, or "" when the source
// does not say where the repository is.
func (s Source) CommitURL() string {
	if s.Commit == "" || s.Repository == "" || s.ServerURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.ServerURL, "/") + "/" + s.Repository + "/commit/" + s.Commit
}

// Label is a short name for the run's commit: its first 7 characters, or
// "" when unknown.
func (s Source) Label() string {
	if len(s.Commit) > 7 {
		return s.Commit[:7]
	}
	return s.Commit
}

// Runner is the summary of the runner measurement (result.Runner) without
// its histograms.
type Runner struct {
	CPUs       int                `json:"cpus"`
	WakeupNS   result.Percentiles `json:"wakeup_ns"`
	CPUProbeNS result.Percentiles `json:"cpu_probe_ns"`
	// CPUPressure and CPUSteal are the result's (result.Runner), absent
	// where it has none.
	CPUPressure *float64 `json:"cpu_pressure,omitempty"`
	CPUSteal    *float64 `json:"cpu_steal,omitempty"`
}

// Component is one component's summary.
type Component struct {
	Name string `json:"name"`
	// WorkloadHash identifies the workload; the trend tier compares only
	// runs of one workload.
	WorkloadHash string                   `json:"workload_hash"`
	Operations   []Operation              `json:"operations"`
	Objectives   []status.ObjectiveResult `json:"objectives,omitempty"`
}

// Operation is one operation's summary.
type Operation struct {
	Name         string             `json:"name"`
	Count        int64              `json:"count"`
	Errors       int64              `json:"errors"`
	AchievedRate float64            `json:"achieved_rate"`
	LatencyNS    result.Percentiles `json:"latency_ns"`
	// Histogram is the whole-run latency histogram, as in the result.
	Histogram string `json:"histogram,omitempty"`
}

// Component returns the named component's summary, or nil.
func (r *Run) Component(name string) *Component {
	for i := range r.Components {
		if r.Components[i].Name == name {
			return &r.Components[i]
		}
	}
	return nil
}

// Operation returns the named operation's summary, or nil.
func (c *Component) Operation(name string) *Operation {
	for i := range c.Operations {
		if c.Operations[i].Name == name {
			return &c.Operations[i]
		}
	}
	return nil
}

// FromResult summarises a (judged) result as a history run.
func FromResult(res *result.Result, src Source, now time.Time) Run {
	run := Run{
		Schema: Schema, Source: src, RecordedAt: now.UTC(), StartedAt: res.StartedAt.UTC(), Plan: res.Plan,
		Seed: res.Seed, Verdict: res.Verdict, Complete: res.Complete, MeasuredNS: res.MeasuredNS,
	}
	if r := res.Runner; r != nil {
		run.Runner = &Runner{CPUs: r.CPUs, WakeupNS: r.WakeupNS, CPUProbeNS: r.CPUProbeNS, CPUPressure: r.CPUPressure, CPUSteal: r.CPUSteal}
	}
	for _, c := range res.Components {
		hc := Component{Name: c.Name, WorkloadHash: c.WorkloadHash, Objectives: c.Objectives}
		for _, o := range c.Operations {
			hc.Operations = append(hc.Operations, Operation{
				Name: o.Name, Count: o.Count, Errors: o.Errors, AchievedRate: o.AchievedRate,
				LatencyNS: o.LatencyNS, Histogram: o.Histogram,
			})
		}
		run.Components = append(run.Components, hc)
	}
	return run
}

// Store is a history directory.
type Store struct {
	// Dir is the directory.
	Dir string
	// Keep is how many runs Add leaves in the store; 0 means DefaultKeep.
	Keep int
}

// Add writes run as a new file of the store (creating the directory),
// then removes the oldest runs beyond Keep. It returns the file's path.
func (s *Store) Add(run Run) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("history %q: %w", s.Dir, err)
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", fmt.Errorf("history %q: %w", s.Dir, err)
	}
	run.Schema = Schema
	run.ID = run.StartedAt.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(suffix[:])
	if l := run.Source.Label(); l != "" {
		run.ID += "-" + sanitize(l)
	}
	data, err := json.MarshalIndent(run, "", " ")
	if err != nil {
		return "", fmt.Errorf("history %q: %w", s.Dir, err)
	}
	path := filepath.Join(s.Dir, run.ID+".json")
	if err := atomicfile.Write(path, append(data, '\n')); err != nil {
		return "", fmt.Errorf("history %q: %w", s.Dir, err)
	}
	return path, s.prune()
}

// sanitize keeps a label to characters safe in a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// files lists the store's run files, oldest first (their names start with
// the run's start time).
func (s *Store) files() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("history %q: %w", s.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// prune removes the oldest files beyond Keep. Another writer may remove
// the same file at once: a file already gone is no error.
func (s *Store) prune() error {
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	names, err := s.files()
	if err != nil {
		return err
	}
	for _, n := range names[:max(0, len(names)-keep)] {
		if err := os.Remove(filepath.Join(s.Dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("history %q: pruning: %w", s.Dir, err)
		}
	}
	return nil
}

// Runs reads every run of the store, oldest first. A store that does not
// exist yet is empty. A file that is not a history run, or of a later
// major schema, is an error naming it.
func (s *Store) Runs() ([]Run, error) {
	if _, err := os.Stat(s.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	names, err := s.files()
	if err != nil {
		return nil, err
	}
	runs := make([]Run, 0, len(names))
	for _, n := range names {
		path := filepath.Join(s.Dir, n)
		run, err := ReadRun(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned by another writer since the listing
		}
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].StartedAt.Equal(runs[j].StartedAt) {
			return runs[i].StartedAt.Before(runs[j].StartedAt)
		}
		return runs[i].ID < runs[j].ID
	})
	return runs, nil
}

// ReadRun reads one history file.
func ReadRun(path string) (Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return Run{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Run{}, fmt.Errorf("history file %q: %w", path, err)
	}
	if st.Size() > maxFileSize {
		return Run{}, fmt.Errorf("history file %q is %d bytes, more than the %d a run's summary can be", path, st.Size(), maxFileSize)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return Run{}, fmt.Errorf("history file %q: %w", path, err)
	}
	return DecodeRun(data, path)
}

// DecodeRun decodes one history file's content; name is used in messages.
func DecodeRun(data []byte, name string) (Run, error) {
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return Run{}, fmt.Errorf("history file %q: not a tailgate history run: %w", name, err)
	}
	switch {
	case run.Schema == Schema:
	case strings.HasPrefix(run.Schema, schemaPrefix):
		return Run{}, fmt.Errorf("history file %q has schema %q, written by a later tailgate; this one reads %q", name, run.Schema, Schema)
	default:
		return Run{}, fmt.Errorf("history file %q has schema %q, want %q", name, run.Schema, Schema)
	}
	if run.StartedAt.IsZero() {
		return Run{}, fmt.Errorf("history file %q: started_at is missing", name)
	}
	for _, c := range run.Components {
		for _, o := range c.Operations {
			if o.Count < 0 || o.Errors < 0 {
				return Run{}, fmt.Errorf("history file %q: component %q operation %q: negative count", name, c.Name, o.Name)
			}
		}
	}
	return run, nil
}
