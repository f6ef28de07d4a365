package status

// Verdict is the outcome of a whole run, as the result file's "verdict"
// carries it: gate decides it from the objectives' statuses.
type Verdict string

// The verdicts of a run.
const (
	// VerdictPass: every bar that may fail the run was met.
	VerdictPass Verdict = "pass"
	// VerdictFail: a bar was missed.
	VerdictFail Verdict = "fail"
	// VerdictError: the run could not be judged (cut short, a target
	// unreachable, too many errors, a plan that does not match).
	VerdictError Verdict = "error"
)

// Valid reports whether v is one of the verdicts above.
func (v Verdict) Valid() bool {
	switch v {
	case VerdictPass, VerdictFail, VerdictError:
		return true
	}
	return false
}
