package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// position returns n's place in the file.
func position(n *yaml.Node) Position {
	return Position{Line: n.Line, Column: n.Column}
}

// describe names what n holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(clip(n.Value))
	}
	return "an unexpected YAML node"
}

// pair is one key and its value in a mapping.
type pair struct {
	key, value *yaml.Node
	merged     bool
}

// pairs returns a mapping's entries in file order, with << merge keys
// expanded in place as YAML defines them: keys written in the mapping win
// over merged ones, and earlier merged mappings over later ones. Repeated
// and non-string keys are reported.
func (d *decoder) pairs(n *yaml.Node, what string) ([]pair, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, got %s", what, describe(n))
		return nil, false
	}
	var all []pair
	written := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := d.resolve(n.Content[i]), n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			d.errorf(key, "keys of %s must be plain strings, got %s", what, describe(key))
			continue
		}
		if key.Tag == "!!merge" {
			for _, p := range d.merge(n, value, what) {
				p.merged = true
				all = append(all, p)
			}
			continue
		}
		if written[key.Value] {
			d.errorf(key, "%s has key %q twice; remove one", what, clip(key.Value))
			continue
		}
		written[key.Value] = true
		all = append(all, pair{key: key, value: value})
	}
	out := all[:0]
	merged := make(map[string]bool)
	for _, p := range all {
		if p.merged {
			if written[p.key.Value] || merged[p.key.Value] {
				continue
			}
			merged[p.key.Value] = true
		}
		out = append(out, p)
	}
	return out, true
}

// merge returns the entries a << key in mapping brings in from value: one
// mapping or a list of mappings.
func (d *decoder) merge(mapping, value *yaml.Node, what string) []pair {
	if d.merging[mapping] {
		d.errorf(value, "%s merges itself through <<", strings.TrimPrefix(what, "<< in "))
		return nil
	}
	d.merging[mapping] = true
	defer delete(d.merging, mapping)
	value = d.resolve(value)
	var sources []*yaml.Node
	switch value.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{value}
	case yaml.SequenceNode:
		sources = value.Content
	default:
		d.errorf(value, "<< in %s must merge a mapping or a list of mappings, got %s", what, describe(value))
		return nil
	}
	var out []pair
	for _, source := range sources {
		entries, _ := d.pairs(source, "<< in "+what)
		out = append(out, entries...)
	}
	return out
}

// fields decodes the entries of a mapping with a fixed set of keys,
// reporting unknown ones.
func (d *decoder) fields(n *yaml.Node, what string, allowed []string) (map[string]pair, bool) {
	return d.fieldsWith(n, what, allowed, false)
}

// fieldsWith is fields that, if extensions, also ignores keys starting with
// extensionPrefix.
func (d *decoder) fieldsWith(n *yaml.Node, what string, allowed []string, extensions bool) (map[string]pair, bool) {
	entries, ok := d.pairs(n, what)
	if !ok {
		return nil, false
	}
	out := make(map[string]pair, len(entries))
	for _, p := range entries {
		if extensions && strings.HasPrefix(p.key.Value, extensionPrefix) {
			continue
		}
		if !contains(allowed, p.key.Value) {
			d.errorf(p.key, "unknown key %q in %s%s; allowed: %s", clip(p.key.Value), what, suggest(p.key.Value, allowed), strings.Join(allowed, ", "))
			continue
		}
		out[p.key.Value] = p
	}
	return out, true
}

// sequence returns the items of a list.
func (d *decoder) sequence(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, got %s", what, describe(n))
		return nil, false
	}
	return n.Content, true
}

// scalar resolves n and checks it is a single value.
func (d *decoder) scalar(n *yaml.Node, what string) (*yaml.Node, bool) {
	n = d.resolve(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		d.errorf(n, "%s must be a single value, got %s", what, describe(n))
		return n, false
	case n.Tag == "!!null":
		d.errorf(n, "%s needs a value", what)
		return n, false
	case n.Tag == "!!binary" || !strings.HasPrefix(n.Tag, "!!"):
		d.errorf(n, "%s: YAML tag %q is not supported here", what, clip(n.Tag))
		return n, false
	}
	return n, true
}

// decodeField decodes the scalar n into dst with parse, recording where it
// came from; a failure is reported as "what: cause".
func decodeField[T any](d *decoder, n *yaml.Node, dst *T, what string, parse func(*yaml.Node) (T, error)) bool {
	v, o := decodeValue(d, n, what, parse)
	if !o.bad {
		*dst = v
	}
	d.origins[dst] = o
	return !o.bad
}

// decodeKey decodes the key of the mapping fields into dst with parse when
// the mapping has it, naming it prefix+key in messages (prefix is the
// mapping's path, such as "workload.tls."). It reports whether the key was
// there and decoded.
func decodeKey[T any](d *decoder, fields map[string]pair, prefix, key string, dst *T, parse func(*yaml.Node) (T, error)) bool {
	e, ok := fields[key]
	return ok && decodeField(d, e.value, dst, prefix+key, parse)
}

// requireKey is decodeKey for a key the mapping n, of the given fields,
// must have: when it lacks the key, the problem is reported at n as
// "prefix+key is required" followed by hint, and dst is marked bad.
func requireKey[T any](d *decoder, n *yaml.Node, fields map[string]pair, prefix, key string, dst *T, parse func(*yaml.Node) (T, error), hint string) {
	if _, ok := fields[key]; !ok {
		d.errorf(n, "%s is required%s", prefix+key, hint)
		d.markBad(dst, n)
		return
	}
	decodeKey(d, fields, prefix, key, dst, parse)
}

// scalarOrFields decodes a key that is written either as one value or as a
// mapping (value_size: 64, or value_size: {max: 4096, ...}): the resolved
// node n, when it is not a mapping, into dst with parse; a mapping into its
// fields, which are then returned with true.
func scalarOrFields[T any](d *decoder, n *yaml.Node, what string, dst *T, parse func(*yaml.Node) (T, error), allowed []string) (map[string]pair, bool) {
	if n.Kind != yaml.MappingNode {
		decodeField(d, n, dst, what, parse)
		return nil, false
	}
	return d.fields(n, what, allowed)
}

// decodeItems decodes the items of a list (its sequence items, or its
// mapping's pairs), whose key is key, into a new slice at dst, each item
// with decode; the list's origin is its key. The items are decoded in place,
// so that the origins decode records point into the slice. It reports
// whether every item decoded.
func decodeItems[T, Item any](d *decoder, key *yaml.Node, items []Item, dst *[]T, decode func(item Item, v *T, index int) bool) bool {
	d.origins[dst] = origin{pos: position(key)}
	*dst = make([]T, len(items))
	complete := true
	for i, item := range items {
		if !decode(item, &(*dst)[i], i) {
			complete = false
		}
	}
	return complete
}

// decodeList decodes the sequence n of scalars with parse, each named what
// in messages; nil when n is not a sequence. The items are decoded in
// place, so that their origins point into the list returned.
func decodeList[T any](d *decoder, n *yaml.Node, what string, parse func(*yaml.Node) (T, error)) []T {
	items, ok := d.sequence(n, what)
	if !ok {
		return nil
	}
	list := make([]T, len(items))
	for i, item := range items {
		decodeField(d, item, &list[i], what, parse)
	}
	return list
}

// decodeValue decodes the scalar n with parse and says where it came from;
// the origin is marked bad, and the problem reported, when that fails.
func decodeValue[T any](d *decoder, n *yaml.Node, what string, parse func(*yaml.Node) (T, error)) (T, origin) {
	var zero T
	s, ok := d.scalar(n, what)
	o := origin{pos: position(s), raw: s.Value, bad: true}
	if !ok {
		return zero, o
	}
	v, err := parse(s)
	if err != nil {
		d.errorf(s, "%s: %w", what, err)
		return zero, o
	}
	o.bad = false
	return v, o
}

// asString accepts any scalar as text, so name: 2024 is the name "2024";
// for a named string type (Arrival, Distribution, ...) the value is checked
// after decoding.
func asString[T ~string](n *yaml.Node) (T, error) { return T(n.Value), nil }

// asNumber accepts an integer or a decimal number.
func asNumber(n *yaml.Node) (float64, error) {
	if n.Tag != "!!int" && n.Tag != "!!float" {
		return 0, fmt.Errorf("%s is not a number", describe(n))
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return 0, fmt.Errorf("%s is not a number", describe(n))
	}
	return f, nil
}

// asInt64 accepts a whole number, also written as 1e6 or 1_000_000.
func asInt64(n *yaml.Node) (int64, error) {
	switch n.Tag {
	case "!!int":
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is too large", describe(n))
		}
		return v, nil
	case "!!float":
		f, err := asNumber(n)
		if err != nil {
			return 0, err
		}
		if f != math.Trunc(f) {
			return 0, fmt.Errorf("%s is not a whole number", describe(n))
		}
		if math.Abs(f) > 1<<53 {
			return 0, fmt.Errorf("%s is too large", describe(n))
		}
		return int64(f), nil
	}
	return 0, fmt.Errorf("%s is not a whole number", describe(n))
}

// asInt is asInt64 for values that must fit an int.
func asInt(n *yaml.Node) (int, error) {
	v, err := asInt64(n)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt || v > math.MaxInt {
		return 0, fmt.Errorf("%s is too large", describe(n))
	}
	return int(v), nil
}

// asBool accepts true or false.
func asBool(n *yaml.Node) (bool, error) {
	var b bool
	if n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, fmt.Errorf("%s is not true or false", describe(n))
	}
	return b, nil
}

// asDuration parses a duration such as 2ms.
func asDuration(n *yaml.Node) (time.Duration, error) { return ParseDuration(n.Value) }

// asPercent parses an unsigned percent such as 99%.
func asPercent(n *yaml.Node) (float64, error) { return ParsePercent(n.Value) }

// suggest returns ` (did you mean "x"?)` for the allowed key closest to a
// misspelt one, or "".
func suggest(key string, allowed []string) string {
	best, bestDistance := "", 3
	for _, a := range allowed {
		if dist := editDistance(strings.ToLower(key), a); dist < bestDistance {
			best, bestDistance = a, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
