package result

import "fmt"

// Looks records how a run that may extend itself (the plan's
// defaults.adaptive) looked at its data. Every look is a chance for noise to
// cross a bar, so the gate judges a component at the level its last look
// allows (gate/stats.LookConfidence over Fractions); a component without
// Looks was looked at once.
type Looks struct {
	// MaxNS is the longest measured length the run could extend to.
	MaxNS int64 `json:"max_ns"`
	// MeasuredNS is the measured length at each look, in order; the
	// component's objectives are judged at the last.
	MeasuredNS []int64 `json:"measured_ns"`
	// Reasons says why each extension was made: what was inconclusive at
	// the look before it. One fewer than the looks.
	Reasons []string `json:"reasons,omitempty"`
}

// Extended reports whether the run was measured beyond its first look.
func (l *Looks) Extended() bool { return l != nil && len(l.MeasuredNS) > 1 }

// Fractions returns each look's measured length as a share of MaxNS: the
// information fractions of the looks. A look within 0.5% of MaxNS is the
// last one possible and counts as 1.
func (l *Looks) Fractions() []float64 {
	out := make([]float64, len(l.MeasuredNS))
	for k, m := range l.MeasuredNS {
		f := float64(m) / float64(l.MaxNS)
		if f > 0.995 {
			f = 1
		}
		out[k] = f
	}
	return out
}

// check reports what is wrong with a decoded Looks.
func (l *Looks) check() error {
	if l.MaxNS <= 0 || len(l.MeasuredNS) == 0 {
		return fmt.Errorf("looks need max_ns and at least one measured length")
	}
	for k, m := range l.MeasuredNS {
		if m <= 0 || (k > 0 && m <= l.MeasuredNS[k-1]) || float64(m) > 1.005*float64(l.MaxNS) {
			return fmt.Errorf("look %d at %d ns: looks must grow, up to max_ns %d", k+1, m, l.MaxNS)
		}
	}
	return nil
}
