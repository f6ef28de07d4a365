package slo

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinels for errors.Is on the errors Load, Parse and Validate return.
var (
	// ErrTooLarge reports a plan file over MaxPlanSize bytes.
	ErrTooLarge = errors.New("plan too large")
	// ErrTooComplex reports a plan whose YAML, aliases expanded, has more
	// nodes than any real plan needs: an alias bomb or generated garbage.
	ErrTooComplex = errors.New("plan too complex")
	// ErrUnsetVariable reports a ${NAME} reference to an unset environment variable.
	ErrUnsetVariable = errors.New("environment variable not set")
)

// Error is one problem in a plan, with its place in the file.
type Error struct {
	File string
	// Line and Column are 1-based; 0 when the problem has no single place.
	Line, Column int
	// Component names the component the problem is in; empty for plan-wide problems.
	Component string
	Msg       string
	// Err is the cause, if any, for errors.Is and errors.As.
	Err error
}

// Error formats the problem as file:line:col: component "x": message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(location(e.File, Position{Line: e.Line, Column: e.Column}))
	if e.Component != "" {
		fmt.Fprintf(&b, "component %q: ", clip(e.Component))
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// location renders "file:line:col: " with the parts that are known.
func location(file string, pos Position) string {
	var b strings.Builder
	b.WriteString(file)
	if pos.Line > 0 {
		if file != "" {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", pos.Line)
		if pos.Column > 0 {
			fmt.Fprintf(&b, ":%d", pos.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	return b.String()
}

// Errors are the problems found in one plan, in file order: all of them,
// up to 200, and then one more saying how many were left out.
type Errors []*Error

// Error lists the problems, one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes every problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxReported bounds the problems one plan reports: enough for any real
// plan, while a generated file of a hundred thousand mistakes still gets a
// readable answer.
const maxReported = 200

// capped keeps the first maxReported problems and says how many it dropped.
func (es Errors) capped() Errors {
	if len(es) <= maxReported {
		return es
	}
	last := es[maxReported-1]
	out := append(es[:maxReported:maxReported], &Error{
		File: last.File,
		Msg:  fmt.Sprintf("%d more problems not shown; fix these first", len(es)-maxReported),
	})
	return out
}

// err returns es as an error, or nil when there are none (never a typed nil).
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// sorted orders problems by place and drops exact repeats, which happen when
// one anchored YAML node is reached through several aliases.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
	type key struct {
		file, component, msg string
		line, column         int
	}
	seen := make(map[key]bool, len(es))
	out := es[:0]
	for _, e := range es {
		k := key{e.File, e.Component, e.Msg, e.Line, e.Column}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// Warning is a plan that is valid but probably not what its author meant.
type Warning struct {
	File      string
	Pos       Position
	Component string
	Msg       string
}

// String formats the warning as file:line:col: warning: component "x": message.
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(location(w.File, w.Pos))
	b.WriteString("warning: ")
	if w.Component != "" {
		fmt.Fprintf(&b, "component %q: ", clip(w.Component))
	}
	b.WriteString(w.Msg)
	return b.String()
}
