package report

import (
	"math"
	"testing"
)

func TestLayoutLabelsNeverOverlap(t *testing.T) {
	const h, top, bottom = 15.0, 20.0, 300.0
	tests := []struct {
		name   string
		wanted []float64
		want   []float64 // nil: only the invariants are checked
	}{
		{"labels far apart stay where they are", []float64{50, 100, 200}, []float64{50, 100, 200}},
		{"two labels on one bar split around it", []float64{100, 100}, []float64{92.5, 107.5}},
		{"two close labels move apart evenly", []float64{100, 110}, []float64{97.5, 112.5}},
		{"a label above the top comes down to it", []float64{5}, []float64{20}},
		{"a block at the top is pushed down whole", []float64{20, 20, 20}, []float64{20, 35, 50}},
		{"a block at the bottom is pushed up whole", []float64{300, 300}, []float64{285, 300}},
		{"a grown block that reaches the one above merges with it", []float64{100, 120, 125, 125}, []float64{95, 110, 125, 140}},
		{"more labels than fit start at the top, still apart", []float64{150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150}, nil},
		{"no labels", nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := layoutLabels(tt.wanted, h, top, bottom)
			if len(got) != len(tt.wanted) {
				t.Fatalf("got %d positions for %d labels", len(got), len(tt.wanted))
			}
			for i := 1; i < len(got); i++ {
				if got[i]-got[i-1] < h-1e-9 {
					t.Errorf("labels %d and %d overlap: %v", i-1, i, got)
				}
			}
			fits := float64(len(got))*h <= bottom-top+h
			for i, y := range got {
				if y < top-1e-9 || fits && y > bottom+1e-9 {
					t.Errorf("label %d at %v is outside [%v, %v]: %v", i, y, top, bottom, got)
				}
			}
			for i := range tt.want {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Errorf("positions %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}
