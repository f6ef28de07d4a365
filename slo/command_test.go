package slo

import (
	"errors"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestSplitCommandSplitsAsRedisCliDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want []string
	}{
		{"GET {{key}}", []string{"GET", "{{key}}"}},
		{"  SET\t{{key}}   {{value}}  ", []string{"SET", "{{key}}", "{{value}}"}},
		{`SET {{key}} "a b"`, []string{"SET", "{{key}}", "a b"}},
		{`ECHO "tab\there\nnew\\line \"q\""`, []string{"ECHO", "tab\there\nnew\\line \"q\""}},
		{`ECHO "\x41\x7a\xZZ"`, []string{"ECHO", "AzxZZ"}},
		{`ECHO 'it\'s' 'a\nb'`, []string{"ECHO", "it's", `a\nb`}},
		{`ECHO "" ''`, []string{"ECHO", "", ""}},
		{`ECHO a"b c"`, []string{"ECHO", "ab c"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.line)
		if err != nil {
			t.Errorf("SplitCommand(%q): %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestParseCommandReadsKeysValuesAndLiterals(t *testing.T) {
	t.Parallel()
	key, value := CommandArg{Kind: ArgKey}, CommandArg{Kind: ArgValue}
	lit := func(s string) CommandArg { return CommandArg{Kind: ArgLiteral, Literal: s} }
	tests := []struct {
		text string
		want Command
	}{
		{"hset {{key}} f {{value}}", Command{Name: "HSET", Args: []CommandArg{key, lit("f"), value}, Keys: 1, Type: KeyHash, Creates: true}},
		{"HGET {{key}} f", Command{Name: "HGET", Args: []CommandArg{key, lit("f")}, Keys: 1, Type: KeyHash, Read: ReadNil, ReadOnly: true}},
		{"LMOVE {{key}} {{key}} LEFT RIGHT", Command{Name: "LMOVE", Args: []CommandArg{key, key, lit("LEFT"), lit("RIGHT")}, Keys: 2, Type: KeyList, Read: ReadNil, Creates: true}},
		{"MSET {{key}} {{value}} {{key}} x", Command{Name: "MSET", Args: []CommandArg{key, value, key, lit("x")}, Keys: 2, Type: KeyString, Creates: true}},
		{"BITOP AND {{key}} {{key}} {{key}}", Command{Name: "BITOP", Args: []CommandArg{lit("AND"), key, key, key}, Keys: 3, Type: KeyString, Creates: true}},
		{"SET {{key}} {{value}} ex 30", Command{Name: "SET", Args: []CommandArg{key, value, lit("ex"), lit("30")}, Keys: 1, Type: KeyString, Creates: true, Expires: true}},
		{"MGET {{key}} {{key}}", Command{Name: "MGET", Args: []CommandArg{key, key}, Keys: 2, Type: KeyString, Read: ReadEach, ReadOnly: true}},
		{"XADD {{key}} MAXLEN ~ 100 * f {{value}}", Command{Name: "XADD", Args: []CommandArg{key, lit("MAXLEN"), lit("~"), lit("100"), lit("*"), lit("f"), value}, Keys: 1, Type: KeyStream, Creates: true}},
		{"ZRANGE {{key}} 0 -1", Command{Name: "ZRANGE", Args: []CommandArg{key, lit("0"), lit("-1")}, Keys: 1, Type: KeyZset, Read: ReadNonEmpty, ReadOnly: true}},
		{"ECHO {{value}}", Command{Name: "ECHO", Args: []CommandArg{value}, ReadOnly: true}},
		{"ping", Command{Name: "PING", ReadOnly: true}},
	}
	for _, tt := range tests {
		got, err := ParseCommand(tt.text)
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", tt.text, err)
			continue
		}
		tt.want.Text = tt.text
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseCommand(%q) =\n\t%+v, want\n\t%+v", tt.text, *got, tt.want)
		}
	}
}

func TestParseCommandRefusesWhatCouldLeaveThePlansKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, want string
		refused    bool // the error wraps ErrCommandRefused
	}{
		{"FLUSHALL", "FLUSHALL deletes every key of the server", true},
		{"flushdb async", "FLUSHDB deletes every key of the database", true},
		{"KEYS *", "KEYS " + whyKeyspace, true},
		{"SCAN 0", "SCAN " + whyKeyspace, true},
		{"EVAL \"return 1\" 0", "EVAL " + whyScript, true},
		{"BLPOP {{key}} 0", "BLPOP " + whyBlocking, true},
		{"MULTI", "MULTI " + whyTxn, true},
		{"SUBSCRIBE ch", "SUBSCRIBE " + whyPubSub, true},
		{"SELECT 1", "SELECT " + whyConn, true},
		{"PERSIST {{key}}", "PERSIST " + whyForever, true},
		{"ZUNIONSTORE {{key}} 2 {{key}} {{key}}", "ZUNIONSTORE " + whyNumkeys, true},
		{"OBJECT ENCODING {{key}}", "OBJECT inspects", true},
		{"MIGRATE h 6379 {{key}} 0 1000", "MIGRATE moves keys to another server", true},
		{"XGROUP CREATE {{key}} g $", "XGROUP manages consumer groups", true},
		{"XAUTOCLAIM {{key}} g c 0 0", "XAUTOCLAIM is not on the allow-list", true},
		{"NOSUCHCOMMAND x", "NOSUCHCOMMAND is not on the allow-list", true},
		{"SORT {{key}} BY weight_*", "SORT ... BY reads keys named by a pattern", true},
		{"SORT {{key}} GET #", "SORT ... GET reads keys", true},
		{"SORT {{key}} STORE dst", "SORT ... STORE writes a key", true},
		{"COPY {{key}} {{key}} DB 1", "COPY ... DB copies into another database", true},
		{"GETEX {{key}} PERSIST", "GETEX ... PERSIST " + whyForever, true},
		{"HSET user:1 f {{value}}", `argument 1 of HSET ("user:1") is a key: write {{key}} there`, true},
		{"RENAME {{key}} other", `argument 2 of RENAME ("other") is a key`, true},
		{"SMOVE {{key}} dst m", `argument 2 of SMOVE ("dst") is a key`, true},
		{"MSET {{key}} v k2 v", `argument 3 of MSET ("k2") is a key`, true},
		{"GET pre{{key}}", `argument 1 of GET ("pre{{key}}") is a key`, true},
		{"GET {{value}}", `argument 1 of GET ("{{value}}") is a key`, true},
		{"HSET {{key}} {{key}} v", "argument 2 of HSET is {{key}}, but it is not a key position of HSET", true},
		{"ECHO {{key}}", "argument 1 of ECHO is {{key}}, but it is not a key position", true},
		{"SET {{key}} v{{value}}", `argument 2 ("v{{value}}") holds braces but is not a placeholder`, false},
		{"SET {{key}} {{ value }}", `holds braces but is not a placeholder`, false},
		{"HSET {{key}} f", "HSET takes at least 3 arguments after its name, here 2", false},
		{"GET {{key}} {{key}}", "GET takes 1 arguments after its name, here 2", false},
		{`SET {{key}} "open`, "unbalanced double quote in argument 3", false},
		{`SET {{key}} 'open`, "unbalanced single quote in argument 3", false},
		{`SET {{key}} "a"b`, "a closing double quote must end argument 3", false},
		{`SET {{key}} 'a'b`, "a closing single quote must end argument 3", false},
		{"", "it is empty", false},
		{"DEL" + strings.Repeat(" {{key}}", 17), "it has 17 {{key}} placeholders; at most 16", false},
		{"ECHO" + strings.Repeat(" a", 64), "it has 65 arguments; at most 64", false},
	}
	for _, tt := range tests {
		_, err := ParseCommand(tt.text)
		if err == nil {
			t.Errorf("ParseCommand(%q) = nil error, want %q", tt.text, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseCommand(%q) = %q, want it to say %q", tt.text, err, tt.want)
		}
		if got := errors.Is(err, ErrCommandRefused); got != tt.refused {
			t.Errorf("ParseCommand(%q): errors.Is(ErrCommandRefused) = %v, want %v", tt.text, got, tt.refused)
		}
	}
}

func TestEveryRefusedCommandIsRefusedWithItsReason(t *testing.T) {
	t.Parallel()
	for name, why := range RefusedCommands() {
		if _, ok := allowed[name]; ok {
			t.Errorf("%s is both allowed and refused", name)
		}
		_, err := ParseCommand(strings.ToLower(name) + " {{key}}")
		if err == nil || !errors.Is(err, ErrCommandRefused) || !strings.Contains(err.Error(), name+" "+why) {
			t.Errorf("%s: got %v, want a refusal saying %q", name, err, why)
		}
	}
}

func TestTheAllowListsKeyPositionsAreWhereItsCommandsTakeKeys(t *testing.T) {
	t.Parallel()
	for _, name := range CommandAllowList() {
		s := allowed[name]
		switch {
		case s.arity == 0:
			t.Errorf("%s has no arity", name)
		case s.first == 0 && s.typ != "":
			t.Errorf("%s takes no keys but names a key type", name)
		case s.first > 0 && (s.step < 1 || s.typ == ""):
			t.Errorf("%s: keys from %d by step %d, type %q", name, s.first, s.step, s.typ)
		case s.flags&readOnly != 0 && s.flags&creates != 0:
			t.Errorf("%s is read-only and creates keys", name)
		}
	}
}

// FuzzParseCommand checks that any template either fails with an error
// or parses into a command whose key positions are exactly its {{key}}
// placeholders, and that splitting never panics.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		"HSET {{key}} f {{value}}", `SET {{key}} "a\x41 b" EX 10`, "MSET {{key}} v {{key}} w",
		`ECHO 'it\'s'`, "LMOVE {{key}} {{key}} LEFT RIGHT", "FLUSHALL", `GET "{{key}}"`, "BITOP OR {{key}} {{key}}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words, splitErr := SplitCommand(text)
		c, err := ParseCommand(text)
		if splitErr != nil {
			if err == nil {
				t.Fatalf("SplitCommand(%q) failed (%v) but ParseCommand did not", text, splitErr)
			}
			return
		}
		if err != nil {
			return
		}
		if len(words) != 1+len(c.Args) {
			t.Fatalf("%q: %d words, %d arguments", text, len(words), len(c.Args))
		}
		if _, ok := allowed[c.Name]; !ok {
			t.Fatalf("%q: parsed command %s is not on the allow-list", text, c.Name)
		}
		keys := 0
		for i, a := range c.Args {
			switch a.Kind {
			case ArgKey:
				keys++
				if words[i+1] != PlaceholderKey {
					t.Fatalf("%q: argument %d is a key but was written %q", text, i+1, words[i+1])
				}
			case ArgLiteral:
				if a.Literal != words[i+1] || strings.Contains(a.Literal, "{{") {
					t.Fatalf("%q: literal %q from %q", text, a.Literal, words[i+1])
				}
			}
		}
		if keys != c.Keys {
			t.Fatalf("%q: %d keys counted, %d placeholders", text, c.Keys, keys)
		}
	})
}

func TestAPlansGenericCommandsAreNamedByTheirMixKeys(t *testing.T) {
	t.Parallel()
	p, _, err := parseTestdata(t, "testdata/commands.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Component("profiles")
	w := c.Workload
	if got, want := c.Operations(), []string{"get", "profile_write", "profile_read", "feed_move", "counter", "note"}; !reflect.DeepEqual(got, want) {
		t.Errorf("operations %q, want %q", got, want)
	}
	if len(w.Commands) != 5 || w.Commands["get"] != nil {
		t.Errorf("commands %v: want the five generic ones", w.Commands)
	}
	for op, want := range map[string]struct {
		name   string
		keys   int
		reads  bool
		weight float64
	}{
		"profile_write": {"HSET", 1, false, 0.2},
		"profile_read":  {"HGET", 1, true, 0.2},
		"feed_move":     {"LMOVE", 2, true, 0.1},
		"counter":       {"INCRBY", 1, false, 0.01},
		"note":          {"SET", 1, false, 0.09},
	} {
		cmd := w.Commands[op]
		if cmd == nil || cmd.Name != want.name || cmd.Keys != want.keys {
			t.Errorf("%s: command %+v, want %s with %d keys", op, cmd, want.name, want.keys)
			continue
		}
		if c.Reads(op) != want.reads {
			t.Errorf("%s: reads %v, want %v", op, c.Reads(op), want.reads)
		}
		if share := c.Share(op); share < want.weight-1e-9 || share > want.weight+1e-9 {
			t.Errorf("%s: share %v, want %v (weight 1 when left out)", op, share, want.weight)
		}
	}
	if note := w.Commands["note"]; note.Args[1].Literal != "a b" || !note.Expires {
		t.Errorf("note: %+v, want the quoted value and its own expiry", note)
	}
}

// README's table of the allow-list is the allow-list.
func TestTheReadmeListsTheAllowList(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "| type | commands |")
	if !ok {
		t.Fatal("README has no table of the allow-list")
	}
	var listed []string
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		listed = append(listed, strings.Fields(strings.Trim(cells[2], " `"))...)
	}
	sort.Strings(listed)
	if want := CommandAllowList(); !reflect.DeepEqual(listed, want) {
		t.Errorf("README lists\n\t%v\nthe allow-list is\n\t%v", listed, want)
	}
}
