package grpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// KeyPlaceholder is replaced by the operation's key in request bodies.
const KeyPlaceholder = "{{key}}"

// staticMessage is the wire bytes of a body without the key, built once.
type staticMessage struct{ wire []byte }

// body builds the wire bytes of one request per operation, in the cheapest
// of three ways found at open time:
//
//   - static: the body holds no {{key}}; it is marshaled once and the same
//     bytes are sent every time.
//   - template: the key lands in string fields only. The message is
//     marshaled once with a sentinel for the key and kept as wire segments:
//     fields without the key as bytes, string fields as text around the
//     key, nested messages as sub-templates whose lengths depend on the
//     key's length. An operation appends segments, lengths and the key into
//     a reused buffer. (Protobuf decoders accept fields in any order, so
//     whole fields can be concatenated.)
//   - json: anything else ({{key}} in a number, a map, a bytes field). The
//     key is put into the JSON, which is unmarshaled and marshaled per
//     operation: correct, but slow.
//
// A template is only used after it proved to produce the same message as
// the json way for the first and the last key. The first of static, tmpl
// and json that is set is used.
type body struct {
	static *staticMessage
	tmpl   *template
	json   *jsonBody
}

// compileBody validates a request body against its message type and picks
// how operations build it. prefix and keyCount give the keys the run will
// draw, to check the body with real keys.
func compileBody(desc protoreflect.MessageDescriptor, text, prefix string, keyCount int, resolver *dynamicpb.Types) (*body, error) {
	if strings.TrimSpace(text) == "" {
		text = "{}"
	}
	jb := &jsonBody{
		desc:      desc,
		pieces:    splitPieces(text),
		unmarshal: protojson.UnmarshalOptions{Resolver: resolver},
		marshal:   proto.MarshalOptions{Deterministic: true},
	}
	firstKey := []byte(prefix + "0")
	first, err := jb.decode(firstKey)
	if err != nil {
		return nil, err
	}
	if len(jb.pieces) == 1 {
		b, err := jb.marshal.Marshal(first)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		return &body{static: &staticMessage{wire: b}, json: jb}, nil
	}
	lastKey := []byte(prefix + strconv.Itoa(max(keyCount, 1)-1))
	if _, err := jb.decode(lastKey); err != nil {
		return nil, err
	}
	if tmpl := compileTemplate(jb, text); tmpl != nil && tmpl.matches(jb, firstKey, lastKey) {
		return &body{tmpl: tmpl, json: jb}, nil
	}
	return &body{json: jb}, nil
}

// jsonBody is a JSON body split at every {{key}}.
type jsonBody struct {
	desc      protoreflect.MessageDescriptor
	pieces    [][]byte
	unmarshal protojson.UnmarshalOptions
	marshal   proto.MarshalOptions
}

func splitPieces(text string) [][]byte {
	parts := strings.Split(text, KeyPlaceholder)
	pieces := make([][]byte, len(parts))
	for i, p := range parts {
		pieces[i] = []byte(p)
	}
	return pieces
}

// expand appends the JSON text with key put in place of every {{key}},
// escaped as the inside of a JSON string.
func (j *jsonBody) expand(dst, key []byte) []byte {
	for i, piece := range j.pieces {
		if i > 0 {
			dst = appendJSONEscaped(dst, key)
		}
		dst = append(dst, piece...)
	}
	return dst
}

// decode builds the message for key, with messages that say what is wrong
// with the body.
func (j *jsonBody) decode(key []byte) (proto.Message, error) {
	text := j.expand(nil, key)
	what := "body"
	if len(j.pieces) > 1 {
		what = fmt.Sprintf("body with {{key}} = %q", key)
	}
	var syntax any
	if err := json.Unmarshal(text, &syntax); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s is not JSON: at byte %d: %w", what, se.Offset, err)
		}
		return nil, fmt.Errorf("%s is not JSON: %w", what, err)
	}
	m := dynamicpb.NewMessage(j.desc)
	if err := j.unmarshal.Unmarshal(text, m); err != nil {
		return nil, fmt.Errorf("%s does not match message %s: %w", what, j.desc.FullName(), err)
	}
	return m, nil
}

// appendTo appends the wire bytes of the message for key, using scratch
// for the JSON text; it returns both grown buffers.
func (j *jsonBody) appendTo(dst, scratch, key []byte) (wire, text []byte, err error) {
	text = j.expand(scratch[:0], key)
	m := dynamicpb.NewMessage(j.desc)
	if err := j.unmarshal.Unmarshal(text, m); err != nil {
		return dst, text, fmt.Errorf("body with {{key}} = %q does not match message %s: %w", key, j.desc.FullName(), err)
	}
	wire, err = j.marshal.MarshalAppend(dst, m)
	return wire, text, err
}

func appendJSONEscaped(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// template is a message's wire form with holes for the key.
type template struct{ segments []segment }

// segment is one part of a template: static bytes, a string field holding
// the key, or a nested message holding it.
type segment struct {
	literal []byte
	tag     []byte   // the field's tag, for text and child
	text    [][]byte // text around the key; the key goes between pieces
	textLen int      // the pieces' total length
	child   *template
}

// sentinelFor finds a stand-in for the key that the body does not hold and
// that JSON needs no escaping for.
func sentinelFor(text string) string {
	s := "TAILGATEKEY"
	for strings.Contains(text, s) {
		s += "X"
	}
	return s
}

// compileTemplate builds a template from the body, or nil when the key
// lands somewhere a template cannot express.
func compileTemplate(j *jsonBody, text string) *template {
	sentinel := sentinelFor(text)
	m := dynamicpb.NewMessage(j.desc)
	if err := j.unmarshal.Unmarshal([]byte(strings.ReplaceAll(text, KeyPlaceholder, sentinel)), m); err != nil {
		return nil // e.g. {{key}} in a number: only real keys are numbers
	}
	t := &template{}
	if !t.addMessage(m, sentinel, j.marshal) {
		return nil
	}
	return t
}

// addMessage adds m's fields in number order: those without the sentinel
// as marshaled bytes, the others as holes.
func (t *template) addMessage(m protoreflect.Message, sentinel string, mo proto.MarshalOptions) bool {
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	sort.Slice(fields, func(a, b int) bool { return fields[a].Number() < fields[b].Number() })
	for _, fd := range fields {
		v := m.Get(fd)
		if !fieldHolds(fd, v, sentinel) {
			only := m.New()
			only.Set(fd, v)
			b, err := mo.Marshal(only.Interface())
			if err != nil {
				return false
			}
			t.addLiteral(b)
			continue
		}
		switch {
		case fd.IsMap():
			return false
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				if !t.addValue(fd, list.Get(i), sentinel, mo) {
					return false
				}
			}
		default:
			if !t.addValue(fd, v, sentinel, mo) {
				return false
			}
		}
	}
	return true
}

// addValue adds one value of a field (one element of a repeated field).
func (t *template) addValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, sentinel string, mo proto.MarshalOptions) bool {
	tag := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := v.String()
		if !strings.Contains(s, sentinel) {
			t.addLiteral(protowire.AppendString(tag, s))
			return true
		}
		seg := segment{tag: tag}
		for _, piece := range strings.Split(s, sentinel) {
			seg.text = append(seg.text, []byte(piece))
			seg.textLen += len(piece)
		}
		t.segments = append(t.segments, seg)
		return true
	case protoreflect.MessageKind:
		if !messageHolds(v.Message(), sentinel) {
			b, err := mo.Marshal(v.Message().Interface())
			if err != nil {
				return false
			}
			t.addLiteral(protowire.AppendBytes(tag, b))
			return true
		}
		child := &template{}
		if !child.addMessage(v.Message(), sentinel, mo) {
			return false
		}
		t.segments = append(t.segments, segment{tag: tag, child: child})
		return true
	}
	return false // bytes, groups: the json way
}

func (t *template) addLiteral(b []byte) {
	if n := len(t.segments); n > 0 && t.segments[n-1].isLiteral() {
		t.segments[n-1].literal = append(t.segments[n-1].literal, b...)
		return
	}
	t.segments = append(t.segments, segment{literal: b})
}

func (s *segment) isLiteral() bool { return s.text == nil && s.child == nil }

func fieldHolds(fd protoreflect.FieldDescriptor, v protoreflect.Value, sentinel string) bool {
	switch {
	case fd.IsMap():
		found := false
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			found = strings.Contains(k.String(), sentinel) || valueHolds(fd.MapValue(), mv, sentinel)
			return !found
		})
		return found
	case fd.IsList():
		list := v.List()
		for i := 0; i < list.Len(); i++ {
			if valueHolds(fd, list.Get(i), sentinel) {
				return true
			}
		}
		return false
	}
	return valueHolds(fd, v, sentinel)
}

func valueHolds(fd protoreflect.FieldDescriptor, v protoreflect.Value, sentinel string) bool {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return strings.Contains(v.String(), sentinel)
	case protoreflect.BytesKind:
		return bytes.Contains(v.Bytes(), []byte(sentinel))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageHolds(v.Message(), sentinel)
	}
	return false
}

func messageHolds(m protoreflect.Message, sentinel string) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		found = fieldHolds(fd, v, sentinel)
		return !found
	})
	return found
}

// size is the wire length of the template with a key of keyLen bytes.
func (t *template) size(keyLen int) int {
	n := 0
	for i := range t.segments {
		s := &t.segments[i]
		switch {
		case s.child != nil:
			l := s.child.size(keyLen)
			n += len(s.tag) + protowire.SizeVarint(uint64(l)) + l
		case s.text != nil:
			l := s.textLen + (len(s.text)-1)*keyLen
			n += len(s.tag) + protowire.SizeVarint(uint64(l)) + l
		default:
			n += len(s.literal)
		}
	}
	return n
}

// appendTo appends the message's wire bytes for key.
func (t *template) appendTo(dst, key []byte) []byte {
	for i := range t.segments {
		s := &t.segments[i]
		switch {
		case s.child != nil:
			dst = append(dst, s.tag...)
			dst = protowire.AppendVarint(dst, uint64(s.child.size(len(key))))
			dst = s.child.appendTo(dst, key)
		case s.text != nil:
			dst = append(dst, s.tag...)
			dst = protowire.AppendVarint(dst, uint64(s.textLen+(len(s.text)-1)*len(key)))
			for i, piece := range s.text {
				if i > 0 {
					dst = append(dst, key...)
				}
				dst = append(dst, piece...)
			}
		default:
			dst = append(dst, s.literal...)
		}
	}
	return dst
}

// matches checks the template against the json way for the given keys.
func (t *template) matches(j *jsonBody, keys ...[]byte) bool {
	for _, key := range keys {
		want, err := j.decode(key)
		if err != nil {
			return false
		}
		wire := t.appendTo(nil, key)
		if len(wire) != t.size(len(key)) {
			return false
		}
		got := dynamicpb.NewMessage(j.desc)
		if err := (proto.UnmarshalOptions{Resolver: j.unmarshal.Resolver}).Unmarshal(wire, got); err != nil {
			return false
		}
		if !proto.Equal(got, want) {
			return false
		}
	}
	return true
}
