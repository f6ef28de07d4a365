package capacity

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

func sampleFile() *File {
	c := *searched(31200, 32000, StopPrecision)
	c.Probes = []Probe{
		{Rate: 16000, AchievedRate: 15990, MeasuredNS: 1e10, WarmupNS: 2e9, Count: 159900, Verdict: ProbePass, LatencyNS: result.Percentiles{P50: 4e5, P99: 9e5, P999: 1.2e6}},
		{Rate: 32000, AchievedRate: 31000, MeasuredNS: 1e10, WarmupNS: 2e9, Count: 310000, Errors: 2, Verdict: ProbeFail, LatencyNS: result.Percentiles{P50: 8e5, P99: 4e6, P999: 9e6},
			Objectives: []status.ObjectiveResult{{Tier: "minimum", Operation: "get", Metric: "p99", Threshold: "2ms", ThresholdValue: 2e6, MeasuredValue: 4e6, Status: status.Fail}}},
		{Rate: 31200, AchievedRate: 31180, MeasuredNS: 1e10, WarmupNS: 2e9, Count: 311800, Verdict: ProbePass},
	}
	c.Objectives = []status.ObjectiveResult{{Tier: "minimum", Operation: "all", Metric: "capacity", Threshold: "30000/s", ThresholdValue: 30000, MeasuredValue: 31200, Status: status.Pass}}
	return &File{Schema: Schema, Verdict: status.VerdictPass, Complete: true, Plan: "plan.yaml", Tool: "tailgate dev",
		StartedAt: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC), Components: []Component{c}}
}

func TestTheCapacityFileRoundTrips(t *testing.T) {
	t.Parallel()
	f := sampleFile()
	path := filepath.Join(t.TempDir(), "capacity.json")
	require.NoError(t, f.WriteFile(path))
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, f, got)
	data, err := f.Encode()
	require.NoError(t, err)
	for _, field := range []string{`"schema": "tailgate.capacity/v1"`, `"capacity_rate": 31200`, `"probes": [`, `"rate": 32000`, `"verdict": "fail"`, `"p99": 4000000`} {
		assert.Contains(t, string(data), field)
	}
}

func TestAnInvalidCapacityFileIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*File)
		want   string
	}{
		{"another schema", func(f *File) { f.Schema = "tailgate.result/v1" }, `schema is "tailgate.result/v1"`},
		{"an unknown verdict", func(f *File) { f.Verdict = "maybe" }, `verdict "maybe"`},
		{"no components", func(f *File) { f.Components = nil }, "no components"},
		{"an interrupted search marked complete", func(f *File) { f.Interrupted = true }, "interrupted search is not complete"},
		{"a component without a name", func(f *File) { f.Components[0].Name = "" }, "has no name"},
		{"a component twice", func(f *File) { f.Components = append(f.Components, f.Components[0]) }, "appears twice"},
		{"a negative capacity", func(f *File) { f.Components[0].CapacityRate = -1 }, "capacity_rate -1 is not a rate"},
		{"an upper rate below the capacity", func(f *File) { f.Components[0].UpperRate = 1000 }, "is not above capacity_rate"},
		{"a capacity no probe passed", func(f *File) { f.Components[0].CapacityRate = 31000 }, "capacity_rate 31000 is the rate of no passing probe"},
		{"an upper rate no probe failed", func(f *File) { f.Components[0].UpperRate = 33000 }, "upper_rate 33000 is the rate of no failing probe"},
		{"an unknown stop", func(f *File) { f.Components[0].Stop = "bored" }, `stop "bored"`},
		{"a probe's unknown verdict", func(f *File) { f.Components[0].Probes[0].Verdict = "ok" }, `verdict "ok"`},
		{"a probe without a rate", func(f *File) { f.Components[0].Probes[0].Rate = 0 }, "is not a rate"},
		{"a probe's negative count", func(f *File) { f.Components[0].Probes[0].Count = -1 }, "negative length or count"},
		{"an objective with an empty status", func(f *File) { f.Components[0].Objectives[0].Status = "" }, `unknown objective status ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sampleFile()
			tt.change(f)
			data, err := f.Encode()
			require.NoError(t, err)
			_, err = Decode(data)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	sound, err := sampleFile().Encode()
	require.NoError(t, err)
	_, err = Decode(append(sound, "}"...))
	assert.ErrorIs(t, err, ErrInvalid, "a sound file and a stray brace after it")
	for _, text := range []string{"", "{", "[]", `{"schema": "tailgate.capacity/v1"} {}`,
		`{"schema":"tailgate.capacity/v1","verdict":"pass","components":[{"name":"a","stop":"precision","objectives":[{"tier":"minimum"}]}]}`} {
		_, err := Decode([]byte(text))
		assert.ErrorIs(t, err, ErrInvalid, "%q", text)
	}
}

func FuzzDecode(f *testing.F) {
	data, err := sampleFile().Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"schema":"tailgate.capacity/v1","verdict":"pass","complete":true,"components":[{"name":"a","capacity_rate":0,"stop":"below-min","upper_rate":5,"probes":[{"rate":5,"verdict":"fail"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("an error that is not ErrInvalid: %v", err)
			}
			return
		}
		// What decodes is sound and encodes back to a file that decodes.
		again, err := file.Encode()
		if err != nil {
			t.Fatalf("a decoded file does not encode: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("a decoded file encodes to one that does not decode: %v\n%s", err, again)
		}
		for _, c := range file.Components {
			if c.CapacityRate < 0 || c.UpperRate != 0 && c.UpperRate <= c.CapacityRate {
				t.Fatalf("component %q: bracket [%v, %v) decoded", c.Name, c.CapacityRate, c.UpperRate)
			}
		}
	})
}
