package capacity

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/atomicfile"
	"github.com/tailgate-dev/tailgate/result"
)

// Schema names the capacity file's format.
const Schema = "tailgate.capacity/v1"

// ErrInvalid marks a capacity file that is unreadable, corrupt or not a
// tailgate capacity file.
var ErrInvalid = errors.New("not a valid tailgate capacity file")

// maxFileSize bounds what Read loads: a search of a thousand probes of
// every component of a large plan is a few megabytes.
const maxFileSize = 64 << 20

// File is the capacity file tailgate capacity writes: every component's
// capacity, its bracket and every probe, and the judged capacity
// objectives. Its fields are a contract, like the result file's.
type File struct {
	Schema string `json:"schema"`
	// Verdict is the search's: pass, fail (a capacity objective or
	// regression failed) or error (the search could not measure).
	Verdict status.Verdict `json:"verdict"`
	// Complete is false when the search was interrupted or a probe could
	// not run; Interrupted is true when it was interrupted (Ctrl-C).
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted,omitempty"`
	// Plan is the plan file searched; Tool the tailgate that searched.
	Plan      string    `json:"plan"`
	Tool      string    `json:"tool,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// Baseline names the capacity file the regressions were judged
	// against, when there was one.
	Baseline   string      `json:"baseline,omitempty"`
	Components []Component `json:"components"`
	Warnings   []string    `json:"warnings,omitempty"`
}

// Component is one component's search.
type Component struct {
	Name string `json:"name"`
	// CapacityRate is the capacity, in operations per second: the highest
	// rate whose probe passed; 0 when none did.
	CapacityRate float64 `json:"capacity_rate"`
	// UpperRate is the lowest rate above the capacity whose probe failed:
	// the capacity lies in [CapacityRate, UpperRate). 0 when no probe
	// above the capacity failed (the search stopped before one did, or
	// every rate up to the highest allowed passed).
	UpperRate float64 `json:"upper_rate,omitempty"`
	// Precision is the bracket's width the search was asked for, as a
	// fraction of the capacity.
	Precision float64 `json:"precision"`
	// MinRate and MaxRate are the rates the search was bounded by.
	MinRate float64 `json:"min_rate"`
	MaxRate float64 `json:"max_rate"`
	// Stop is why the search ended (see Stop); Detail says it in words.
	Stop   Stop    `json:"stop"`
	Detail string  `json:"detail,omitempty"`
	Probes []Probe `json:"probes"`
	// Objectives are the judged capacity objectives and regressions.
	Objectives []status.ObjectiveResult `json:"objectives"`
}

// Probe is one probe: an open-loop run at one rate, judged against the
// component's minimum objectives.
type Probe struct {
	// Rate is the rate asked, AchievedRate the rate of successful
	// operations in the measured window, both per second.
	Rate         float64 `json:"rate"`
	AchievedRate float64 `json:"achieved_rate"`
	// MeasuredNS is the measured window's length, WarmupNS the warmup's.
	MeasuredNS int64 `json:"measured_ns"`
	WarmupNS   int64 `json:"warmup_ns"`
	// Count and Errors are the successful and failed operations measured.
	Count  int64 `json:"count"`
	Errors int64 `json:"errors"`
	// Verdict is what the probe showed.
	Verdict ProbeVerdict `json:"verdict"`
	// LatencyNS are the percentiles of all of the component's operations.
	LatencyNS result.Percentiles `json:"latency_ns"`
	// Objectives are the minimum objectives as judged on the probe.
	Objectives []status.ObjectiveResult `json:"objectives"`
	Detail     string                   `json:"detail,omitempty"`
}

// Component returns the named component's search, or nil.
func (f *File) Component(name string) *Component {
	for i := range f.Components {
		if f.Components[i].Name == name {
			return &f.Components[i]
		}
	}
	return nil
}

// Encode writes the file as indented JSON.
func (f *File) Encode() ([]byte, error) {
	return atomicfile.EncodeJSON(f, "the capacity file")
}

// WriteFile writes the file to path atomically.
func (f *File) WriteFile(path string) error {
	return atomicfile.WriteJSON(path, f, "the capacity file")
}

// Read loads and checks a capacity file (see Decode).
func Read(path string) (*File, error) {
	return atomicfile.Read(path, "capacity file", maxFileSize, ErrInvalid, Decode)
}

// Decode parses and checks a capacity file: its schema, verdict, and every
// component's rates, which must be finite and agree with its probes (the
// capacity is the rate of a passing probe, the upper rate that of a failing
// one above it). Every error wraps ErrInvalid.
func Decode(data []byte) (*File, error) {
	var f File
	if err := atomicfile.DecodeJSON(data, &f, ErrInvalid); err != nil {
		return nil, err
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("%w: schema is %q, want %q", ErrInvalid, clip(f.Schema), Schema)
	}
	if !f.Verdict.Valid() {
		return nil, fmt.Errorf("%w: verdict %q is not pass, fail or error", ErrInvalid, clip(string(f.Verdict)))
	}
	if f.Interrupted && f.Complete {
		return nil, fmt.Errorf("%w: an interrupted search is not complete", ErrInvalid)
	}
	if len(f.Components) == 0 {
		return nil, fmt.Errorf("%w: no components", ErrInvalid)
	}
	seen := map[string]bool{}
	for i := range f.Components {
		c := &f.Components[i]
		if c.Name == "" {
			return nil, fmt.Errorf("%w: component %d has no name", ErrInvalid, i)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%w: component %q appears twice", ErrInvalid, clip(c.Name))
		}
		seen[c.Name] = true
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("%w: component %q: %v", ErrInvalid, clip(c.Name), err)
		}
	}
	return &f, nil
}

// check checks one component's search for consistency.
func (c *Component) check() error {
	for _, v := range []struct {
		name  string
		value float64
	}{{"capacity_rate", c.CapacityRate}, {"upper_rate", c.UpperRate}, {"precision", c.Precision}, {"min_rate", c.MinRate}, {"max_rate", c.MaxRate}} {
		if math.IsNaN(v.value) || math.IsInf(v.value, 0) || v.value < 0 {
			return fmt.Errorf("%s %v is not a rate", v.name, v.value)
		}
	}
	if !slices.Contains(stops, c.Stop) {
		return fmt.Errorf("stop %q is not one of %v", clip(string(c.Stop)), stops)
	}
	if c.UpperRate != 0 && c.UpperRate <= c.CapacityRate {
		return fmt.Errorf("upper_rate %v is not above capacity_rate %v", c.UpperRate, c.CapacityRate)
	}
	if err := checkObjectives(c.Objectives); err != nil {
		return err
	}
	passed, failed := c.CapacityRate == 0, c.UpperRate == 0
	for j, p := range c.Probes {
		if err := checkObjectives(p.Objectives); err != nil {
			return fmt.Errorf("probe %d at %v/s: %v", j, p.Rate, err)
		}
		if math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) || p.Rate <= 0 || math.IsNaN(p.AchievedRate) || math.IsInf(p.AchievedRate, 0) || p.AchievedRate < 0 {
			return fmt.Errorf("probe %d: rate %v or achieved_rate %v is not a rate", j, p.Rate, p.AchievedRate)
		}
		if p.MeasuredNS < 0 || p.WarmupNS < 0 || p.Count < 0 || p.Errors < 0 {
			return fmt.Errorf("probe %d at %v/s: negative length or count", j, p.Rate)
		}
		if !slices.Contains(probeVerdicts, p.Verdict) {
			return fmt.Errorf("probe %d at %v/s: verdict %q is not one of %v", j, p.Rate, clip(string(p.Verdict)), probeVerdicts)
		}
		if p.Rate == c.CapacityRate && p.Verdict == ProbePass {
			passed = true
		}
		if p.Rate == c.UpperRate && (p.Verdict == ProbeFail || p.Verdict == ProbeErrorRate) {
			failed = true
		}
	}
	if !passed {
		return fmt.Errorf("capacity_rate %v is the rate of no passing probe", c.CapacityRate)
	}
	if !failed {
		return fmt.Errorf("upper_rate %v is the rate of no failing probe", c.UpperRate)
	}
	return nil
}

// checkObjectives refuses an objective without a status: one a file left
// out would otherwise read as neither passed nor failed, silently.
func checkObjectives(objectives []status.ObjectiveResult) error {
	for i, o := range objectives {
		if o.Status == "" {
			return fmt.Errorf("objective %d (%s %s) has no status", i, clip(o.Operation), clip(o.Metric))
		}
	}
	return nil
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
