package status

import (
	"encoding/json"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Status
		ok   bool
	}{
		{"pass", Pass, true},
		{"fail", Fail, true},
		{"met", Met, true},
		{"missed", Missed, true},
		{"no-change", NoChange, true},
		{"~", NoChange, true}, // result files written before no-change had a name
		{"inconclusive", Inconclusive, true},
		{"insufficient", Insufficient, true},
		{"client-bound", ClientBound, true},
		{"PASS", "", false},
		{"", "", false},
		{"skipped", "", false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestJSONWritesNoChangeAndReadsTheLegacyTilde(t *testing.T) {
	var got struct{ S Status }
	if err := json.Unmarshal([]byte(`{"S": "~"}`), &got); err != nil || got.S != NoChange {
		t.Fatalf(`"~" decodes to %q, %v; want no-change`, got.S, err)
	}
	out, err := json.Marshal(got)
	if err != nil || string(out) != `{"S":"no-change"}` {
		t.Fatalf("encodes as %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"S": "ok"}`), &got); err == nil {
		t.Fatal(`an unknown status "ok" must be refused, not read as a pass`)
	}
}

func TestRank(t *testing.T) {
	for i := 1; i < len(All); i++ {
		if All[i-1].Rank() > All[i].Rank() {
			t.Errorf("%s ranks after %s", All[i-1], All[i])
		}
	}
	order := []Status{Fail, Inconclusive, ClientBound, Insufficient, Missed, Pass, NoChange}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("%s must rank strictly before %s", order[i-1], order[i])
		}
	}
	if Pass.Rank() != Met.Rank() {
		t.Error("pass and met are the same outcome and rank alike")
	}
	if Status("bogus").Rank() >= Fail.Rank() {
		t.Error("an unknown status ranks first, so it is seen")
	}
}

func TestJudged(t *testing.T) {
	for _, s := range All {
		want := s != Inconclusive && s != Insufficient && s != ClientBound
		if s.Judged() != want {
			t.Errorf("%s.Judged() = %v", s, s.Judged())
		}
	}
}
