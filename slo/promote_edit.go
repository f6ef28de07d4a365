package slo

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Promote returns the plan file data with every candidate whose outcome is
// OutcomePromote made its component's new minimum, and a comment recording
// the promotion above it:
//
//	# promoted 2026-11-26: get p99 2ms -> 1ms, earned by runs a.json, b.json
//
// The file stays as people wrote it: the edit is a byte-precise splice at
// the positions the YAML parser reports, so comments, key order, quoting,
// indentation and flow or block style are kept everywhere else. A value is
// replaced in place, keeping its quotes; a missing minimum entry is added in
// the style of its siblings. A value shared through an anchor, or brought in
// by a << merge, is not edited: the change would leak into other places, so
// Promote refuses with its position. The result is checked to differ from
// the input only in the promoted minimums before it is returned.
// Candidates with other outcomes are ignored; with none to promote, data is
// returned unchanged. date is the day the record carries.
func Promote(data []byte, file string, candidates []Candidate, date time.Time) ([]byte, error) {
	var promoted []Candidate
	for _, c := range candidates {
		if c.Outcome == OutcomePromote {
			promoted = append(promoted, c)
		}
	}
	if len(promoted) == 0 {
		return data, nil
	}
	root, perr := parseYAML(data, file)
	if perr != nil {
		return nil, Errors{perr}
	}
	e := newPlanEditor(data, file, root, date)
	var order []string
	byComponent := make(map[string][]Candidate)
	for _, c := range promoted {
		if _, ok := byComponent[c.Component]; !ok {
			order = append(order, c.Component)
		}
		byComponent[c.Component] = append(byComponent[c.Component], c)
	}
	for _, name := range order {
		e.promoteComponent(root, name, byComponent[name])
	}
	if len(e.errs) > 0 {
		return nil, e.errs.sorted()
	}
	out, err := e.apply()
	if err != nil {
		return nil, err
	}
	if err := verifyPromotion(data, out, promoted); err != nil {
		return nil, err
	}
	return out, nil
}

// planEditor collects the splices of one Promote.
type planEditor struct {
	data       []byte
	file       string
	date       time.Time
	lineStarts []int
	// newline is the file's line break: inserted lines use the same.
	newline string
	// aliased holds the nodes some alias refers to: editing one would
	// change every place that refers to it.
	aliased map[*yaml.Node]bool
	edits   []splice
	errs    Errors
	// component names the component being edited, for messages.
	component string
}

// splice replaces data[at:end] with text; at == end inserts.
type splice struct {
	at, end int
	text    string
}

// step is one key and its value on the path from a component to an edit.
type step struct {
	key, value *yaml.Node
}

func newPlanEditor(data []byte, file string, root *yaml.Node, date time.Time) *planEditor {
	e := &planEditor{data: data, file: file, date: date, lineStarts: []int{0}, newline: "\n", aliased: map[*yaml.Node]bool{}}
	for i, b := range data {
		if b == '\n' {
			e.lineStarts = append(e.lineStarts, i+1)
		}
	}
	if bytes.Contains(data, []byte("\r\n")) {
		e.newline = "\r\n"
	}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		// The plan parsed within its node budget, so the tree is small; the
		// depth bound only guards against a cycle.
		if n == nil || depth > 1000 {
			return
		}
		if n.Kind == yaml.AliasNode {
			e.aliased[n.Alias] = true
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return e
}

// errorf reports why a promotion cannot be written at n.
func (e *planEditor) errorf(n *yaml.Node, format string, args ...any) {
	err := &Error{File: e.file, Component: e.component, Msg: "cannot promote: " + fmt.Sprintf(format, args...)}
	if n != nil {
		err.Line, err.Column = n.Line, n.Column
	}
	e.errs = append(e.errs, err)
}

// promoteComponent applies the promotions of one component.
func (e *planEditor) promoteComponent(root *yaml.Node, name string, cands []Candidate) {
	e.component = name
	defer func() { e.component = "" }()
	comp := e.findComponent(root, name)
	if comp == nil {
		return
	}
	path := []step{{value: comp}}
	sloKey, sloValue, ok := e.child(comp, "slo", "its slo")
	if !ok {
		return
	}
	if sloKey == nil {
		e.errorf(comp, "it has no slo mapping written out")
		return
	}
	path = append(path, step{sloKey, sloValue})
	minKey, minValue, ok := e.child(sloValue, string(TierMinimum), "slo.minimum")
	if !ok {
		return
	}
	if minKey == nil {
		e.addMinimum(path, cands)
		return
	}
	path = append(path, step{minKey, minValue})
	ops, byOp := groupByOperation(cands)
	for _, op := range ops {
		opKey, opValue, ok := e.child(minValue, op, "slo.minimum."+op)
		if !ok {
			continue
		}
		if opKey == nil {
			e.addOperation(path, op, byOp[op])
			continue
		}
		opPath := append(path[:len(path):len(path)], step{opKey, opValue})
		var missing []Candidate
		for _, c := range byOp[op] {
			metric := string(c.Milestone.Metric)
			key, value, ok := e.child(opValue, metric, "slo.minimum."+op+"."+metric)
			switch {
			case !ok:
			case key == nil:
				missing = append(missing, c)
			default:
				e.replace(append(opPath[:len(opPath):len(opPath)], step{key, value}), c)
			}
		}
		if len(missing) > 0 {
			e.addMetrics(opPath, missing)
		}
	}
}

// findComponent returns the mapping of the component named name.
func (e *planEditor) findComponent(root *yaml.Node, name string) *yaml.Node {
	_, list, ok := e.child(root, "components", "components")
	if !ok || list == nil {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		e.errorf(list, "components is not a list written out")
		return nil
	}
	for _, item := range list.Content {
		n := item
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n == nil || n.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value == name {
				if item.Kind == yaml.AliasNode || e.aliased[n] {
					e.errorf(item, "the component is shared through a YAML anchor; edit it by hand")
					return nil
				}
				return n
			}
		}
	}
	e.errorf(list, "no component named %q is written out in the file", clip(name))
	return nil
}

// child returns the entry of mapping written under key, or a nil key when
// it has none. ok is false, and the problem reported, when the entry cannot
// be edited in place: the mapping is not one, the entry comes from a <<
// merge, or its value is an alias or anchored and referred to elsewhere.
func (e *planEditor) child(mapping *yaml.Node, key, what string) (k, v *yaml.Node, ok bool) {
	if mapping.Kind == yaml.SequenceNode {
		e.errorf(mapping, "the bars holding %s are a list (whole-run bars beside a stage's); promote edits a mapping of bars: edit it by hand", what)
		return nil, nil, false
	}
	if mapping.Kind != yaml.MappingNode {
		e.errorf(mapping, "%s is not a mapping", mapping.Tag)
		return nil, nil, false
	}
	merged := false
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		k, v := mapping.Content[i], mapping.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = true
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Value != key {
			continue
		}
		switch {
		case v.Kind == yaml.AliasNode:
			e.errorf(v, "%s is an alias of &%s, shared with other places; edit it by hand", what, v.Value)
			return nil, nil, false
		case e.aliased[v]:
			e.errorf(v, "%s is anchored as &%s and shared with other places; edit it by hand", what, v.Anchor)
			return nil, nil, false
		}
		return k, v, true
	}
	if merged {
		e.errorf(mapping, "the mapping holding %s has a << merge, which may bring it in from elsewhere; edit it by hand", what)
		return nil, nil, false
	}
	return nil, nil, true
}

// replace sets an existing minimum's value to the milestone's.
func (e *planEditor) replace(path []step, c Candidate) {
	value := path[len(path)-1].value
	start, end, quote, ok := e.scalarExtent(value)
	if !ok {
		return
	}
	e.edits = append(e.edits, splice{at: start, end: end, text: quote + c.Milestone.shown() + quote})
	e.recordAbove(e.anchorLine(path), c)
}

// addMetrics adds minimum entries for metrics an operation's minimum lacks.
func (e *planEditor) addMetrics(path []step, cands []Candidate) {
	opValue := path[len(path)-1].value
	entries := make([]string, len(cands))
	for i, c := range cands {
		entries[i] = entry(c)
	}
	if isFlow(opValue) {
		e.insertInFlow(path, entries, cands)
		return
	}
	firstKey := opValue.Content[0]
	e.insertLines(opValue, spaces(firstKey.Column-1), entries, cands)
}

// addOperation adds an operation with its metrics to the minimum tier.
func (e *planEditor) addOperation(path []step, op string, cands []Candidate) {
	minValue := path[len(path)-1].value
	if isFlow(minValue) {
		e.insertInFlow(path, []string{op + ": " + flowMapping(cands)}, cands)
		return
	}
	firstKey, firstValue := minValue.Content[0], minValue.Content[1]
	indent := spaces(firstKey.Column - 1)
	text := op + ": " + flowMapping(cands)
	if firstValue.Kind == yaml.MappingNode && !isFlow(firstValue) {
		inner := indent + spaces(childStep(firstKey, firstValue))
		text = op + ":"
		for _, c := range cands {
			text += e.newline + inner + entry(c)
		}
	}
	e.insertLines(minValue, indent, []string{text}, cands)
}

// groupByOperation groups candidates by their milestone's operation: the
// operations in the order they first appear, and each one's candidates.
func groupByOperation(cands []Candidate) (ops []string, byOp map[string][]Candidate) {
	byOp = make(map[string][]Candidate)
	for _, c := range cands {
		op := c.Milestone.Operation
		if _, ok := byOp[op]; !ok {
			ops = append(ops, op)
		}
		byOp[op] = append(byOp[op], c)
	}
	return ops, byOp
}

// addMinimum adds a minimum tier to a component's slo, ahead of its other
// tiers, in the style of the tier written first.
func (e *planEditor) addMinimum(path []step, cands []Candidate) {
	sloKey, sloValue := path[len(path)-1].key, path[len(path)-1].value
	if len(sloValue.Content) == 0 {
		e.errorf(sloValue, "slo is empty")
		return
	}
	ops, byOp := groupByOperation(cands)
	flowOps := make([]string, len(ops))
	for i, op := range ops {
		flowOps[i] = op + ": " + flowMapping(byOp[op])
	}
	flowTier := "minimum: {" + strings.Join(flowOps, ", ") + "}"
	if isFlow(sloValue) {
		at, ok := e.flowStart(sloValue)
		if !ok {
			return
		}
		e.edits = append(e.edits, splice{at: at, end: at, text: flowTier + ", "})
		for _, c := range cands {
			e.recordAbove(e.anchorLine(path), c)
		}
		return
	}
	firstKey, firstValue := sloValue.Content[0], sloValue.Content[1]
	lineStart := e.lineStarts[firstKey.Line-1]
	keyAt, ok := e.offset(firstKey)
	if !ok {
		return
	}
	if strings.TrimLeft(string(e.data[lineStart:keyAt]), " ") != "" {
		e.errorf(firstKey, "the slo mapping does not start on a line of its own")
		return
	}
	// Insert above the comment lines that head the first tier, so they
	// stay with it.
	line := firstKey.Line
	for line-1 > sloKey.Line && isCommentLine(e.lineText(line-1)) {
		line--
	}
	indent := spaces(firstKey.Column - 1)
	text := flowTier
	if !(firstValue.Kind == yaml.MappingNode && isFlow(firstValue)) {
		// A block tier: each operation on its own line, styled like the
		// first operation of the tier written first.
		inner := indent + spaces(childStep(firstKey, firstValue))
		blockOps := firstValue.Kind == yaml.MappingNode && len(firstValue.Content) > 0 && !isFlow(firstValue.Content[1])
		text = "minimum:"
		for _, op := range ops {
			if !blockOps {
				text += e.newline + inner + op + ": " + flowMapping(byOp[op])
				continue
			}
			innermost := inner + spaces(childStep(firstValue.Content[0], firstValue.Content[1]))
			text += e.newline + inner + op + ":"
			for _, c := range byOp[op] {
				text += e.newline + innermost + entry(c)
			}
		}
	}
	var b strings.Builder
	for _, c := range cands {
		b.WriteString(indent + "# " + e.record(c) + e.newline)
	}
	b.WriteString(indent + text + e.newline)
	at := e.lineStarts[line-1]
	e.edits = append(e.edits, splice{at: at, end: at, text: b.String()})
}

// insertInFlow adds entries at the end of the flow mapping that ends path,
// with the records above the line the flow collection starts on.
func (e *planEditor) insertInFlow(path []step, entries []string, cands []Candidate) {
	mapping := path[len(path)-1].value
	text := strings.Join(entries, ", ")
	var at int
	if len(mapping.Content) == 0 {
		start, ok := e.flowStart(mapping)
		if !ok {
			return
		}
		at = start
	} else {
		end, ok := e.extentEnd(mapping.Content[len(mapping.Content)-1])
		if !ok {
			return
		}
		at, text = end, ", "+text
	}
	e.edits = append(e.edits, splice{at: at, end: at, text: text})
	for _, c := range cands {
		e.recordAbove(e.anchorLine(path), c)
	}
}

// insertLines adds entries as lines after the last entry of a block
// mapping, each with its record above it.
func (e *planEditor) insertLines(mapping *yaml.Node, indent string, entries []string, cands []Candidate) {
	end, ok := e.extentEnd(mapping.Content[len(mapping.Content)-1])
	if !ok {
		return
	}
	at := len(e.data)
	prefix := ""
	if i := bytes.IndexByte(e.data[end:], '\n'); i >= 0 {
		at = end + i + 1
	} else {
		prefix = e.newline
	}
	var b strings.Builder
	b.WriteString(prefix)
	if len(entries) == len(cands) {
		for i, c := range cands {
			b.WriteString(indent + "# " + e.record(c) + e.newline)
			b.WriteString(indent + entries[i] + e.newline)
		}
	} else {
		for _, c := range cands {
			b.WriteString(indent + "# " + e.record(c) + e.newline)
		}
		for _, text := range entries {
			b.WriteString(indent + text + e.newline)
		}
	}
	e.edits = append(e.edits, splice{at: at, end: at, text: b.String()})
}

// anchorLine is the line a record goes above: the line of the outermost
// flow collection on the path (comments cannot go inside one), else the
// line of the edited key.
func (e *planEditor) anchorLine(path []step) int {
	for _, s := range path {
		if isFlow(s.value) {
			if s.key != nil {
				return s.key.Line
			}
			return s.value.Line
		}
	}
	last := path[len(path)-1]
	if last.key != nil {
		return last.key.Line
	}
	return last.value.Line
}

// recordAbove inserts the record of c as a comment line above line,
// indented like it.
func (e *planEditor) recordAbove(line int, c Candidate) {
	at := e.lineStarts[line-1]
	text := e.lineText(line)
	indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
	e.edits = append(e.edits, splice{at: at, end: at, text: indent + "# " + e.record(c) + e.newline})
}

// record is the comment a promotion leaves in the plan.
func (e *planEditor) record(c Candidate) string {
	const listed = 5
	runs := make([]string, 0, listed+1)
	for i, r := range c.Runs {
		if i == listed {
			runs = append(runs, fmt.Sprintf("and %d more", len(c.Runs)-listed))
			break
		}
		runs = append(runs, commentSafe(r))
	}
	by := "runs"
	if len(c.Runs) == 1 {
		by = "run"
	}
	return fmt.Sprintf("promoted %s: %s, earned by %s %s", e.date.UTC().Format("2006-01-02"), commentSafe(c.Change()), by, strings.Join(runs, ", "))
}

// commentSafe replaces line breaks and other control characters, which
// would end a comment, with "?".
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return '?'
		}
		return r
	}, s)
}

// lineText is the text of a 1-based line, without its line break.
func (e *planEditor) lineText(line int) string {
	start := e.lineStarts[line-1]
	end := len(e.data)
	if line < len(e.lineStarts) {
		end = e.lineStarts[line] - 1
	}
	return strings.TrimSuffix(string(e.data[start:end]), "\r")
}

// offset converts a node's line and column (counted in characters, as
// yaml.v3 counts them) into a byte offset.
func (e *planEditor) offset(n *yaml.Node) (int, bool) {
	if n.Line < 1 || n.Line > len(e.lineStarts) || n.Column < 1 {
		e.errorf(n, "the YAML parser gave a position outside the file")
		return 0, false
	}
	at := e.lineStarts[n.Line-1]
	for i := 1; i < n.Column; i++ {
		if at >= len(e.data) || e.data[at] == '\n' {
			e.errorf(n, "the YAML parser gave a position outside the line")
			return 0, false
		}
		_, size := utf8.DecodeRune(e.data[at:])
		at += size
	}
	return at, true
}

// valueStart is where a node's value text starts: its offset past any
// anchor (&name) and tag (!tag) written before it.
func (e *planEditor) valueStart(n *yaml.Node) (int, bool) {
	at, ok := e.offset(n)
	if !ok {
		return 0, false
	}
	for at < len(e.data) && (e.data[at] == '&' || e.data[at] == '!') {
		for at < len(e.data) && !isSpace(e.data[at]) {
			at++
		}
		for at < len(e.data) && (e.data[at] == ' ' || e.data[at] == '\t') {
			at++
		}
	}
	return at, true
}

// scalarExtent locates a one-line scalar's text, quotes included, and says
// which quote it is written with.
func (e *planEditor) scalarExtent(n *yaml.Node) (start, end int, quote string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		e.errorf(n, "the minimum is not a single value")
		return 0, 0, "", false
	}
	start, ok = e.valueStart(n)
	if !ok {
		return 0, 0, "", false
	}
	rest := e.data[start:]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	switch {
	case len(rest) > 0 && rest[0] == '"':
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return start, start + i + 1, `"`, true
			}
		}
	case len(rest) > 0 && rest[0] == '\'':
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return start, start + i + 1, "'", true
			}
		}
	case bytes.HasPrefix(rest, []byte(n.Value)) && n.Value != "":
		return start, start + len(n.Value), "", true
	}
	e.errorf(n, "the value %q is not written on one line", clip(n.Value))
	return 0, 0, "", false
}

// flowStart is the offset just past a flow collection's opening bracket.
func (e *planEditor) flowStart(n *yaml.Node) (int, bool) {
	at, ok := e.valueStart(n)
	if !ok {
		return 0, false
	}
	if at >= len(e.data) || (e.data[at] != '{' && e.data[at] != '[') {
		e.errorf(n, "the flow collection does not start where the YAML parser says")
		return 0, false
	}
	return at + 1, true
}

// extentEnd is the offset just past a node's text: its last character, or
// the closing bracket of a flow collection.
func (e *planEditor) extentEnd(n *yaml.Node) (int, bool) {
	switch {
	case n.Kind == yaml.AliasNode:
		at, ok := e.offset(n)
		return at + 1 + len(n.Value), ok
	case n.Kind == yaml.ScalarNode:
		_, end, _, ok := e.scalarExtent(n)
		return end, ok
	case isFlow(n):
		start, ok := e.flowStart(n)
		if !ok {
			return 0, false
		}
		if end, ok := flowEnd(e.data, start-1); ok {
			return end, true
		}
		e.errorf(n, "the flow collection has no closing bracket")
		return 0, false
	case len(n.Content) > 0:
		return e.extentEnd(n.Content[len(n.Content)-1])
	}
	e.errorf(n, "an empty block collection")
	return 0, false
}

// flowEnd returns the offset just past the bracket that closes the flow
// collection opening at data[open], skipping quoted scalars and comments.
func flowEnd(data []byte, open int) (int, bool) {
	depth := 0
	for i := open; i < len(data); i++ {
		c := data[i]
		// A quote or # only starts a scalar or comment after a separator;
		// inside a plain scalar it is an ordinary character.
		afterSeparator := i == open || isSpace(data[i-1]) || bytes.IndexByte([]byte("{[,:"), data[i-1]) >= 0
		switch {
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case c == '"' && afterSeparator:
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case c == '\'' && afterSeparator:
			for i++; i < len(data); i++ {
				if data[i] == '\'' {
					if i+1 < len(data) && data[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case c == '#' && (i == open || isSpace(data[i-1])):
			for i < len(data) && data[i] != '\n' {
				i++
			}
		}
	}
	return 0, false
}

// apply performs the splices in file order.
func (e *planEditor) apply() ([]byte, error) {
	sort.SliceStable(e.edits, func(i, j int) bool { return e.edits[i].at < e.edits[j].at })
	var out bytes.Buffer
	cursor := 0
	for _, s := range e.edits {
		if s.at < cursor {
			return nil, fmt.Errorf("%s: promote: two edits overlap at byte %d", e.file, s.at)
		}
		out.Write(e.data[cursor:s.at])
		out.WriteString(s.text)
		cursor = s.end
	}
	out.Write(e.data[cursor:])
	return out.Bytes(), nil
}

// verifyPromotion checks that edited holds the same YAML data as original
// but for the promoted minimums: comments may differ, nothing else.
func verifyPromotion(original, edited []byte, promoted []Candidate) error {
	var want, got any
	if err := yaml.Unmarshal(original, &want); err != nil {
		return fmt.Errorf("promote: re-reading the plan: %w", err)
	}
	if err := yaml.Unmarshal(edited, &got); err != nil {
		return fmt.Errorf("promote: the edited plan is not valid YAML (%w); the plan was not changed", err)
	}
	for _, c := range promoted {
		var value any
		if err := yaml.Unmarshal([]byte(c.Milestone.shown()), &value); err != nil {
			return fmt.Errorf("promote: milestone value %q: %w", c.Milestone.shown(), err)
		}
		if err := setMinimum(want, c.Component, c.Milestone.Operation, string(c.Milestone.Metric), value); err != nil {
			return err
		}
	}
	if !reflect.DeepEqual(want, got) {
		return errors.New("promote: the edit would change more than the promoted minimums; the plan was not changed")
	}
	return nil
}

// setMinimum sets slo.minimum.op.metric of the named component in a plan
// decoded into generic values, creating mappings as needed.
func setMinimum(plan any, component, op, metric string, value any) error {
	root, _ := plan.(map[string]any)
	list, _ := root["components"].([]any)
	for _, item := range list {
		comp, _ := item.(map[string]any)
		if name, _ := comp["name"].(string); name != component || comp == nil {
			continue
		}
		m := comp
		for _, key := range []string{"slo", string(TierMinimum), op} {
			next, _ := m[key].(map[string]any)
			if next == nil {
				next = map[string]any{}
				m[key] = next
			}
			m = next
		}
		m[metric] = value
		return nil
	}
	return fmt.Errorf("promote: component %q is not in the plan", component)
}

// entry writes one minimum entry: "p99: 1ms".
func entry(c Candidate) string {
	return string(c.Milestone.Metric) + ": " + c.Milestone.shown()
}

// flowMapping writes the entries as a flow mapping: "{p99: 1ms, max: 5ms}".
func flowMapping(cands []Candidate) string {
	entries := make([]string, len(cands))
	for i, c := range cands {
		entries[i] = entry(c)
	}
	return "{" + strings.Join(entries, ", ") + "}"
}

// childStep is how much deeper than key its block mapping value's keys are
// indented; 2 when that cannot be seen.
func childStep(key, value *yaml.Node) int {
	if value.Kind == yaml.MappingNode && !isFlow(value) && len(value.Content) > 0 {
		if d := value.Content[0].Column - key.Column; d > 0 {
			return d
		}
	}
	return 2
}

// isFlow reports whether n is a collection written in flow style.
func isFlow(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle != 0
}

// isCommentLine reports whether a line holds only a comment.
func isCommentLine(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#")
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func spaces(n int) string {
	if n < 0 {
		n = 0
	}
	return strings.Repeat(" ", n)
}
