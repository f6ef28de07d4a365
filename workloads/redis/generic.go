package redis

import (
	"fmt"
	"slices"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// Generic commands: a mix entry {command: "HSET {{key}} f {{value}}"}
// (slo.ParseCommand splits and checks it against the allow-list) sends
// its command with each {{key}} replaced by a key of the keyspace and
// each {{value}} by the operation's value:
//
//   - The first {{key}} is the operation's drawn key, the others further
//     keys drawn the same way (workloads.MultiKey). A key holds its
//     command's type, as the built-in operations' keys do: k for strings
//     and commands of any type (DEL, EXPIRE, RENAME ...), k:h for
//     hashes, k:l lists, k:s sets, k:z sorted sets, k:x streams, so that prefill
//     writes the keys a command reads, cleanup deletes every key a
//     command wrote, and a generic HGET reads what the built-in hset
//     wrote.
//   - On a cluster the keys of one command share a slot: the further
//     keys are taken within the first key's hash tag (numbers 10g to
//     10g+9, g its tag), the key's drawn number modulo the tag's keys.
//   - Every {{value}} of a command is the operation's one value.
//   - A command that may create its keys (slo.Command.Creates) is
//     followed by EXPIRE of each of them with the run's ttl, as the
//     built-in writes are, unless it sets its expiry itself (SETEX,
//     SET ... EX n), so that no key is left forever.
//   - Replies: an error reply is the operation's error, counted by its
//     kind ("redis WRONGTYPE"); a read's nil or empty reply is a miss as
//     slo.Command.Read says, and other commands neither hit nor miss.
//   - A read-only command is sent again when the server provably did
//     not process it, as the built-in reads are (see conn.Do).

// argPart is one argument of a generic command: a literal, rendered as a
// bulk string once, or the index of a key, or the value.
type argPart struct {
	kind slo.ArgKind
	bulk []byte
	key  int
}

// template is a generic command ready to render.
type template struct {
	name   string
	parts  []argPart
	keys   int
	family family
	expire bool
}

// families of the plan's key types.
var typeFamily = map[slo.KeyType]family{
	slo.KeyString: familyString, slo.KeyHash: familyHash, slo.KeyList: familyList,
	slo.KeySet: familySet, slo.KeyZset: familyZset, slo.KeyStream: familyStream,
}

// readStyles of the plan's read styles.
var readStyles = map[slo.ReadStyle]readStyle{
	slo.NotRead: notRead, slo.ReadNil: readOne, slo.ReadEach: readEach, slo.ReadNonEmpty: readNonEmpty,
}

// genericCommand is the command of the mix's operation name for cmd.
func genericCommand(name string, cmd *slo.Command) command {
	t := &template{name: cmd.Name, keys: cmd.Keys, family: typeFamily[cmd.Type], expire: cmd.Creates && !cmd.Expires}
	key := 0
	for _, a := range cmd.Args {
		p := argPart{kind: a.Kind}
		switch a.Kind {
		case slo.ArgLiteral:
			p.bulk = appendBulk(nil, []byte(a.Literal))
		case slo.ArgKey:
			p.key = key
			key++
		}
		t.parts = append(t.parts, p)
	}
	replies := 1
	if t.expire {
		replies += t.keys
	}
	return command{name: name, family: t.family, read: readStyles[cmd.Read], replies: replies, keys: t.keys,
		idempotent: cmd.ReadOnly, render: t.render}
}

// render appends the command and the EXPIREs after it.
func (t *template) render(c *conn, b []byte, op *workloads.Op) []byte {
	b = c.header(b, 1+len(t.parts), t.name)
	for _, p := range t.parts {
		switch p.kind {
		case slo.ArgLiteral:
			b = append(b, p.bulk...)
		case slo.ArgKey:
			b = c.nthKey(b, op, p.key, t.family)
		default:
			b = appendBulk(b, op.Value)
		}
	}
	if t.expire {
		for i := range t.keys {
			b = append(c.nthKey(c.header(b, 3, "EXPIRE"), op, i, t.family), c.d.ttl...)
		}
	}
	return b
}

// nthKey appends the i-th key of op (Key, then Keys[1:]) of family f as a
// bulk string; on a cluster, within the first key's hash tag.
func (c *conn) nthKey(b []byte, op *workloads.Op, i int, f family) []byte {
	if i == 0 || i >= len(op.Keys) {
		return c.key(b, op, f)
	}
	if !c.d.cluster {
		c.keyBuf = append(append(c.keyBuf[:0], op.Keys[i]...), familySuffix[f]...)
		return appendBulk(b, c.keyBuf)
	}
	n := keyNumber(op.Keys[i], len(c.d.prefix))
	from := op.KeyIndex / mgetKeys * mgetKeys
	size := min(uint64(mgetKeys), c.d.keyCount-from)
	c.keyBuf = append(c.d.clusterKey(c.keyBuf[:0], from+n%size), familySuffix[f]...)
	return appendBulk(b, c.keyBuf)
}

// keyNumber reads the number of a drawn key, the digits after the prefix.
func keyNumber(key []byte, prefix int) uint64 {
	var n uint64
	for _, d := range key[min(prefix, len(key)):] {
		n = n*10 + uint64(d-'0')
	}
	return n
}

// withGenerics returns the driver's command table: the built-in commands,
// then one for each generic command of the mix.
func withGenerics(table []command, spec *workloads.Spec) ([]command, map[string]operation, error) {
	table = slices.Clip(table)
	kinds := map[string]operation{}
	w := &spec.Component.Workload
	for _, m := range w.Mix {
		cmd := w.Commands[m.Operation]
		if cmd == nil {
			continue
		}
		// A plan built in code may hold the text alone: parse it here too.
		parsed, err := slo.ParseCommand(cmd.Text)
		if err != nil {
			return nil, nil, fmt.Errorf("workload.mix.%s.command %q: %w", m.Operation, cmd.Text, err)
		}
		if len(table) > 255 {
			return nil, nil, fmt.Errorf("the mix has more generic commands than %d", 255-len(commands))
		}
		kinds[m.Operation] = operation(len(table))
		table = append(table, genericCommand(m.Operation, parsed))
	}
	return table, kinds, nil
}

// KeysPerOp is how many keys an operation of the kind takes: its generic
// command's {{key}} placeholders; the built-in operations take one.
func (d *Driver) KeysPerOp(kind int) int {
	if kind < 0 || kind >= len(d.ops) {
		return 1
	}
	return max(d.cmds[d.ops[kind]].keys, 1)
}

var _ workloads.MultiKey = (*Driver)(nil)
