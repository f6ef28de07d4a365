package slo

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A generic Redis command is a mix entry written as a mapping:
//
//	mix:
//	  get: 80
//	  profile_write: {command: "HSET {{key}} name {{value}}", weight: 20}
//
// The entry's key (profile_write) is the operation's name in results,
// reports and objectives. The command is split into arguments as
// redis-cli splits a line: by spaces, "double quotes" with the escapes
// \n \r \t \b \a \\ \" and \xHH, 'single quotes' with \' alone; a closing
// quote must end its argument.
//
//	{{key}}    a whole argument: a key of the plan's keyspace, drawn as the
//	           other operations draw theirs (each {{key}} draws its own)
//	{{value}}  a whole argument: a value of the plan's value_size
//
// Only commands of CommandAllowList run, each with every one of its key
// positions (Redis's COMMAND INFO: first key, last key, step) exactly a
// {{key}}, and {{key}} nowhere else: a literal key, or one built around a
// placeholder, could name a key outside the prefix. The other commands
// are refused with the reason (RefusedCommands): those that reach beyond
// the plan's own keys or the server as a whole, that block, that run
// scripts or transactions, or that would keep a key forever.

// maxCommandArgs bounds a command template's arguments, and
// maxCommandKeys its {{key}} placeholders.
const (
	maxCommandArgs = 64
	maxCommandKeys = 16
)

// MaxCommands is the most generic commands one component's mix may hold.
const MaxCommands = 64

// The placeholders of a command template.
const (
	PlaceholderKey   = "{{key}}"
	PlaceholderValue = "{{value}}"
)

// ArgKind says what an argument of a command template is.
type ArgKind uint8

// The kinds of argument.
const (
	// ArgLiteral is sent as written.
	ArgLiteral ArgKind = iota
	// ArgKey is a {{key}}: a drawn key of the keyspace.
	ArgKey
	// ArgValue is a {{value}}: a drawn value.
	ArgValue
)

// CommandArg is one argument of a command template, after the command's name.
type CommandArg struct {
	Kind ArgKind
	// Literal is the argument of an ArgLiteral, unquoted.
	Literal string
}

// KeyType is the Redis type of the values a command's keys hold. It picks
// the key a {{key}} names: key k of the keyspace is prefix+n for strings
// and for commands of any type, prefix+n+":h" for hashes, ":l" lists,
// ":s" sets, ":z" sorted sets, as the built-in operations name theirs,
// and ":x" for streams.
type KeyType string

// The key types.
const (
	KeyString KeyType = "string"
	KeyHash   KeyType = "hash"
	KeyList   KeyType = "list"
	KeySet    KeyType = "set"
	KeyZset   KeyType = "zset"
	KeyStream KeyType = "stream"
)

// ReadStyle says how a read command's reply counts as hits and misses.
type ReadStyle uint8

// The read styles.
const (
	// NotRead: the command's replies are neither hits nor misses.
	NotRead ReadStyle = iota
	// ReadNil: a nil reply is a miss, any other a hit.
	ReadNil
	// ReadEach: each nil element of an array reply is a miss, each other a hit.
	ReadEach
	// ReadNonEmpty: an empty (or nil) array or map is a miss, any other a hit.
	ReadNonEmpty
)

// Command is a generic Redis command of a mix, split and checked.
type Command struct {
	// Text is the template as the plan wrote it.
	Text string
	// Name is the command's name, upper case.
	Name string
	// Args are the arguments after the name.
	Args []CommandArg
	// Keys is how many {{key}} placeholders Args hold.
	Keys int
	// Type is the type of the values its keys hold.
	Type KeyType
	// Read says how its reply counts as hits and misses.
	Read ReadStyle
	// Creates is set for a command that may create its keys: the driver
	// sets the run's expiry on each after it (EXPIRE), so that no key is
	// left forever, unless Expires.
	Creates bool
	// Expires is set for a command that sets its keys' expiry itself
	// (SETEX, SET ... EX n).
	Expires bool
	// ReadOnly commands change nothing, so one the server provably did
	// not process may be sent again.
	ReadOnly bool
}

// commandSpec is what the allow-list knows of one command.
type commandSpec struct {
	// arity counts the name: n exactly n arguments, -n at least n, as
	// COMMAND INFO says.
	arity int
	// first, last and step locate the keys as COMMAND INFO does: the
	// argument indexes (the name is 0) first, first+step, … up to last,
	// where a negative last counts from the end (-1 the last argument);
	// first 0 for a command without keys.
	first, last, step int
	typ               KeyType
	read              ReadStyle
	flags             commandFlags
	// check refuses arguments that would leave the plan's keys (COPY ...
	// DB n) or keep a key forever; args exclude the name, upper-cased.
	check func(args []string) error
}

type commandFlags uint8

const (
	// creates: may create keys (an EXPIRE follows).
	creates commandFlags = 1 << iota
	// readOnly: changes nothing.
	readOnly
	// expiring: sets its keys' expiry itself.
	expiring
)

// spec builders keep the table below one line a command.
func one(arity int, typ KeyType, read ReadStyle, flags commandFlags) commandSpec {
	return commandSpec{arity: arity, first: 1, last: 1, step: 1, typ: typ, read: read, flags: flags}
}

func keys(arity, first, last, step int, typ KeyType, read ReadStyle, flags commandFlags) commandSpec {
	return commandSpec{arity: arity, first: first, last: last, step: step, typ: typ, read: read, flags: flags}
}

func keyless(arity int) commandSpec { return commandSpec{arity: arity, flags: readOnly} }

func (s commandSpec) checked(check func(args []string) error) commandSpec {
	s.check = check
	return s
}

// allowed is the allow-list: Redis's commands whose every key position is
// known (COMMAND INFO) and which touch nothing but those keys, or nothing
// at all (PING, ECHO, TIME). Read styles are those of commands.go's
// built-in reads.
var allowed = map[string]commandSpec{
	// Strings.
	"GET":         one(2, KeyString, ReadNil, readOnly),
	"SET":         one(-3, KeyString, NotRead, creates),
	"SETNX":       one(3, KeyString, NotRead, creates),
	"SETEX":       one(4, KeyString, NotRead, creates|expiring),
	"PSETEX":      one(4, KeyString, NotRead, creates|expiring),
	"GETSET":      one(3, KeyString, NotRead, creates),
	"GETDEL":      one(2, KeyString, ReadNil, 0),
	"GETEX":       one(-2, KeyString, ReadNil, 0).checked(checkGetex),
	"GETRANGE":    one(4, KeyString, NotRead, readOnly),
	"SETRANGE":    one(4, KeyString, NotRead, creates),
	"APPEND":      one(3, KeyString, NotRead, creates),
	"STRLEN":      one(2, KeyString, NotRead, readOnly),
	"INCR":        one(2, KeyString, NotRead, creates),
	"DECR":        one(2, KeyString, NotRead, creates),
	"INCRBY":      one(3, KeyString, NotRead, creates),
	"DECRBY":      one(3, KeyString, NotRead, creates),
	"INCRBYFLOAT": one(3, KeyString, NotRead, creates),
	"MGET":        keys(-2, 1, -1, 1, KeyString, ReadEach, readOnly),
	"MSET":        keys(-3, 1, -1, 2, KeyString, NotRead, creates),
	"MSETNX":      keys(-3, 1, -1, 2, KeyString, NotRead, creates),
	"SETBIT":      one(4, KeyString, NotRead, creates),
	"GETBIT":      one(3, KeyString, NotRead, readOnly),
	"BITCOUNT":    one(-2, KeyString, NotRead, readOnly),
	"BITPOS":      one(-3, KeyString, NotRead, readOnly),
	"BITFIELD_RO": one(-2, KeyString, NotRead, readOnly),
	"BITOP":       keys(-4, 2, -1, 1, KeyString, NotRead, creates),
	"LCS":         keys(-3, 1, 2, 1, KeyString, NotRead, readOnly),
	"PFADD":       one(-2, KeyString, NotRead, creates),
	"PFCOUNT":     keys(-2, 1, -1, 1, KeyString, NotRead, readOnly),
	"PFMERGE":     keys(-2, 1, -1, 1, KeyString, NotRead, creates),

	// Keys of any type: they name the plain key, where strings live.
	"EXISTS":      keys(-2, 1, -1, 1, KeyString, NotRead, readOnly),
	"DEL":         keys(-2, 1, -1, 1, KeyString, NotRead, 0),
	"UNLINK":      keys(-2, 1, -1, 1, KeyString, NotRead, 0),
	"TOUCH":       keys(-2, 1, -1, 1, KeyString, NotRead, readOnly),
	"TYPE":        one(2, KeyString, NotRead, readOnly),
	"TTL":         one(2, KeyString, NotRead, readOnly),
	"PTTL":        one(2, KeyString, NotRead, readOnly),
	"EXPIRETIME":  one(2, KeyString, NotRead, readOnly),
	"PEXPIRETIME": one(2, KeyString, NotRead, readOnly),
	"EXPIRE":      one(-3, KeyString, NotRead, expiring),
	"PEXPIRE":     one(-3, KeyString, NotRead, expiring),
	"EXPIREAT":    one(-3, KeyString, NotRead, expiring),
	"PEXPIREAT":   one(-3, KeyString, NotRead, expiring),
	"RENAME":      keys(3, 1, 2, 1, KeyString, NotRead, creates),
	"RENAMENX":    keys(3, 1, 2, 1, KeyString, NotRead, creates),
	"COPY":        keys(-3, 1, 2, 1, KeyString, NotRead, creates).checked(checkCopy),

	// Hashes.
	"HSET":         one(-4, KeyHash, NotRead, creates),
	"HSETNX":       one(4, KeyHash, NotRead, creates),
	"HMSET":        one(-4, KeyHash, NotRead, creates),
	"HGET":         one(3, KeyHash, ReadNil, readOnly),
	"HMGET":        one(-3, KeyHash, ReadEach, readOnly),
	"HGETALL":      one(2, KeyHash, ReadNonEmpty, readOnly),
	"HKEYS":        one(2, KeyHash, ReadNonEmpty, readOnly),
	"HVALS":        one(2, KeyHash, ReadNonEmpty, readOnly),
	"HDEL":         one(-3, KeyHash, NotRead, 0),
	"HEXISTS":      one(3, KeyHash, NotRead, readOnly),
	"HLEN":         one(2, KeyHash, NotRead, readOnly),
	"HSTRLEN":      one(3, KeyHash, NotRead, readOnly),
	"HINCRBY":      one(4, KeyHash, NotRead, creates),
	"HINCRBYFLOAT": one(4, KeyHash, NotRead, creates),
	"HRANDFIELD":   one(-2, KeyHash, ReadNil, readOnly),
	"HSCAN":        one(-3, KeyHash, NotRead, readOnly),

	// Lists.
	"LPUSH":     one(-3, KeyList, NotRead, creates),
	"RPUSH":     one(-3, KeyList, NotRead, creates),
	"LPUSHX":    one(-3, KeyList, NotRead, 0),
	"RPUSHX":    one(-3, KeyList, NotRead, 0),
	"LPOP":      one(-2, KeyList, ReadNil, 0),
	"RPOP":      one(-2, KeyList, ReadNil, 0),
	"LRANGE":    one(4, KeyList, ReadNonEmpty, readOnly),
	"LLEN":      one(2, KeyList, NotRead, readOnly),
	"LINDEX":    one(3, KeyList, ReadNil, readOnly),
	"LSET":      one(4, KeyList, NotRead, 0),
	"LINSERT":   one(5, KeyList, NotRead, 0),
	"LREM":      one(4, KeyList, NotRead, 0),
	"LTRIM":     one(4, KeyList, NotRead, 0),
	"LPOS":      one(-3, KeyList, ReadNil, readOnly),
	"LMOVE":     keys(5, 1, 2, 1, KeyList, ReadNil, creates),
	"RPOPLPUSH": keys(3, 1, 2, 1, KeyList, ReadNil, creates),
	"SORT":      one(-2, KeyList, NotRead, readOnly).checked(checkSort),
	"SORT_RO":   one(-2, KeyList, NotRead, readOnly).checked(checkSort),

	// Sets.
	"SADD":        one(-3, KeySet, NotRead, creates),
	"SREM":        one(-3, KeySet, NotRead, 0),
	"SMEMBERS":    one(2, KeySet, ReadNonEmpty, readOnly),
	"SISMEMBER":   one(3, KeySet, NotRead, readOnly),
	"SMISMEMBER":  one(-3, KeySet, NotRead, readOnly),
	"SCARD":       one(2, KeySet, NotRead, readOnly),
	"SPOP":        one(-2, KeySet, ReadNil, 0),
	"SRANDMEMBER": one(-2, KeySet, ReadNil, readOnly),
	"SMOVE":       keys(4, 1, 2, 1, KeySet, NotRead, creates),
	"SINTER":      keys(-2, 1, -1, 1, KeySet, ReadNonEmpty, readOnly),
	"SUNION":      keys(-2, 1, -1, 1, KeySet, ReadNonEmpty, readOnly),
	"SDIFF":       keys(-2, 1, -1, 1, KeySet, ReadNonEmpty, readOnly),
	"SINTERSTORE": keys(-3, 1, -1, 1, KeySet, NotRead, creates),
	"SUNIONSTORE": keys(-3, 1, -1, 1, KeySet, NotRead, creates),
	"SDIFFSTORE":  keys(-3, 1, -1, 1, KeySet, NotRead, creates),
	"SSCAN":       one(-3, KeySet, NotRead, readOnly),

	// Sorted sets (and geo, which keeps sorted sets).
	"ZADD":             one(-4, KeyZset, NotRead, creates),
	"ZINCRBY":          one(4, KeyZset, NotRead, creates),
	"ZREM":             one(-3, KeyZset, NotRead, 0),
	"ZSCORE":           one(3, KeyZset, ReadNil, readOnly),
	"ZMSCORE":          one(-3, KeyZset, ReadEach, readOnly),
	"ZRANK":            one(-3, KeyZset, ReadNil, readOnly),
	"ZREVRANK":         one(-3, KeyZset, ReadNil, readOnly),
	"ZRANGE":           one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZREVRANGE":        one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZRANGEBYSCORE":    one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZREVRANGEBYSCORE": one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZRANGEBYLEX":      one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZREVRANGEBYLEX":   one(-4, KeyZset, ReadNonEmpty, readOnly),
	"ZRANGESTORE":      keys(-5, 1, 2, 1, KeyZset, NotRead, creates),
	"ZCARD":            one(2, KeyZset, NotRead, readOnly),
	"ZCOUNT":           one(4, KeyZset, NotRead, readOnly),
	"ZLEXCOUNT":        one(4, KeyZset, NotRead, readOnly),
	"ZPOPMIN":          one(-2, KeyZset, ReadNonEmpty, 0),
	"ZPOPMAX":          one(-2, KeyZset, ReadNonEmpty, 0),
	"ZREMRANGEBYRANK":  one(4, KeyZset, NotRead, 0),
	"ZREMRANGEBYSCORE": one(4, KeyZset, NotRead, 0),
	"ZREMRANGEBYLEX":   one(4, KeyZset, NotRead, 0),
	"ZRANDMEMBER":      one(-2, KeyZset, ReadNil, readOnly),
	"ZSCAN":            one(-3, KeyZset, NotRead, readOnly),
	"GEOADD":           one(-5, KeyZset, NotRead, creates),
	"GEOPOS":           one(-2, KeyZset, NotRead, readOnly),
	"GEODIST":          one(-4, KeyZset, NotRead, readOnly),
	"GEOHASH":          one(-2, KeyZset, NotRead, readOnly),
	"GEOSEARCH":        one(-7, KeyZset, NotRead, readOnly),
	"GEOSEARCHSTORE":   keys(-8, 1, 2, 1, KeyZset, NotRead, creates),

	// Streams.
	"XADD":      one(-5, KeyStream, NotRead, creates),
	"XLEN":      one(2, KeyStream, NotRead, readOnly),
	"XRANGE":    one(-4, KeyStream, ReadNonEmpty, readOnly),
	"XREVRANGE": one(-4, KeyStream, ReadNonEmpty, readOnly),
	"XTRIM":     one(-4, KeyStream, NotRead, 0),
	"XDEL":      one(-3, KeyStream, NotRead, 0),

	// Keyless, and about nothing but the connection.
	"PING": keyless(-1),
	"ECHO": keyless(2),
	"TIME": keyless(1),
}

// The reasons commands are refused, by family.
const (
	whyServer   = "acts on the whole server or database, not only the plan's keys"
	whyKeyspace = "reads or walks the whole keyspace, not only the plan's keys"
	whyScript   = "runs a script or function, whose keys tailgate cannot check"
	whyBlocking = "blocks the connection waiting for data, which would be measured as latency"
	whyTxn      = "is a transaction or a wait, whose effects tailgate cannot check per command"
	whyPubSub   = "switches the connection to publish/subscribe"
	whyConn     = "changes the connection's state (database, user, protocol), which tailgate sets itself"
	whyForever  = "removes the run's expiry, so the key would be left forever"
	whyNumkeys  = "takes a count of keys in its arguments; its keys cannot be checked position by position"
)

// refused explains, for commands often reached for, why they are not on
// the allow-list; any other command outside it is refused as unknown.
var refused = map[string]string{
	"FLUSHALL": "deletes every key of the server", "FLUSHDB": "deletes every key of the database",
	"KEYS": whyKeyspace, "SCAN": whyKeyspace, "RANDOMKEY": whyKeyspace, "DBSIZE": whyKeyspace,
	"DEBUG": whyServer, "CONFIG": whyServer, "SHUTDOWN": whyServer, "SAVE": whyServer, "BGSAVE": whyServer,
	"BGREWRITEAOF": whyServer, "LASTSAVE": whyServer, "REPLICAOF": whyServer, "SLAVEOF": whyServer,
	"SYNC": whyServer, "PSYNC": whyServer, "FAILOVER": whyServer, "MODULE": whyServer, "INFO": whyServer,
	"MEMORY": whyServer, "LATENCY": whyServer, "SLOWLOG": whyServer, "COMMAND": whyServer, "LOLWUT": whyServer,
	"CLIENT": whyServer, "CLUSTER": whyServer, "ACL": whyServer, "MONITOR": whyServer, "OBJECT": "inspects how the server keeps a key, not the key's data",
	"SWAPDB": whyServer, "MIGRATE": "moves keys to another server", "MOVE": "moves a key to another database",
	"SCRIPT": whyScript, "EVAL": whyScript, "EVALSHA": whyScript, "EVAL_RO": whyScript, "EVALSHA_RO": whyScript,
	"FCALL": whyScript, "FCALL_RO": whyScript, "FUNCTION": whyScript,
	"BLPOP": whyBlocking, "BRPOP": whyBlocking, "BLMOVE": whyBlocking, "BRPOPLPUSH": whyBlocking,
	"BLMPOP": whyBlocking, "BZPOPMIN": whyBlocking, "BZPOPMAX": whyBlocking, "BZMPOP": whyBlocking,
	"XREAD": whyBlocking, "XREADGROUP": whyBlocking,
	"XGROUP": "manages consumer groups, state beyond the stream's entries",
	"MULTI":  whyTxn, "EXEC": whyTxn, "DISCARD": whyTxn, "WATCH": whyTxn, "UNWATCH": whyTxn,
	"WAIT": whyTxn, "WAITAOF": whyTxn,
	"SUBSCRIBE": whyPubSub, "PSUBSCRIBE": whyPubSub, "SSUBSCRIBE": whyPubSub, "UNSUBSCRIBE": whyPubSub,
	"PUNSUBSCRIBE": whyPubSub, "SUNSUBSCRIBE": whyPubSub, "PUBLISH": whyPubSub, "SPUBLISH": whyPubSub, "PUBSUB": whyPubSub,
	"SELECT": whyConn, "AUTH": whyConn, "HELLO": whyConn, "RESET": whyConn, "QUIT": whyConn,
	"READONLY": whyConn, "READWRITE": whyConn, "ASKING": whyConn,
	"PERSIST": whyForever,
	"LMPOP":   whyNumkeys, "ZMPOP": whyNumkeys, "SINTERCARD": whyNumkeys, "ZINTERCARD": whyNumkeys,
	"ZUNIONSTORE": whyNumkeys, "ZINTERSTORE": whyNumkeys, "ZDIFFSTORE": whyNumkeys,
	"ZUNION": whyNumkeys, "ZINTER": whyNumkeys, "ZDIFF": whyNumkeys,
	"GEORADIUS":         "can store its answer under a key named in its arguments (use GEOSEARCH)",
	"GEORADIUSBYMEMBER": "can store its answer under a key named in its arguments (use GEOSEARCH)",
	"BITFIELD":          "its OVERFLOW and SET subcommands are not checked; use BITFIELD_RO, or SETBIT",
}

// CommandAllowList lists the commands a generic command may run, sorted.
func CommandAllowList() []string {
	out := make([]string, 0, len(allowed))
	for name := range allowed {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// RefusedCommands maps the commands refused by name to the reason.
func RefusedCommands() map[string]string {
	out := make(map[string]string, len(refused))
	for name, why := range refused {
		out[name] = why
	}
	return out
}

// ErrCommandRefused is the cause of every refusal of a command template
// that parses: a command off the allow-list, or one whose arguments are
// not allowed.
var ErrCommandRefused = errors.New("command refused")

// setExpires reports whether SET's options give the key an expiry.
func setExpires(args []string) bool {
	for _, a := range args {
		switch a {
		case "EX", "PX", "EXAT", "PXAT":
			return true
		}
	}
	return false
}

func checkGetex(args []string) error {
	for _, a := range args {
		if a == "PERSIST" {
			return errors.New("GETEX ... PERSIST " + whyForever)
		}
	}
	return nil
}

func checkCopy(args []string) error {
	for _, a := range args {
		if a == "DB" {
			return errors.New("COPY ... DB copies into another database, beyond the plan's keys")
		}
	}
	return nil
}

func checkSort(args []string) error {
	for _, a := range args {
		switch a {
		case "BY", "GET":
			return fmt.Errorf("SORT ... %s reads keys named by a pattern, beyond the plan's keys", a)
		case "STORE":
			return errors.New("SORT ... STORE writes a key named in its arguments; write the key as a placeholder with another command")
		}
	}
	return nil
}

// SplitCommand splits a command line into arguments as redis-cli does
// (see the package's description of generic commands).
func SplitCommand(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && isCommandSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, nil
		}
		var cur []byte
		start := i
		for i < len(line) && !isCommandSpace(line[i]) {
			if c := line[i]; c != '"' && c != '\'' {
				cur = append(cur, c)
				i++
				continue
			}
			var err error
			if cur, i, err = appendQuoted(cur, line, i, len(args)+1, start); err != nil {
				return nil, err
			}
		}
		args = append(args, string(cur))
	}
}

// appendQuoted appends to cur the quoted text that opens at line[open], a
// double or a single quote, and returns the index past its closing quote,
// which must end the argument. Within double quotes the backslash escapes
// \xHH, \n, \r, \t, \b, \a and any other character as itself; within single
// quotes it escapes only a single quote. arg numbers the argument in
// errors, and start is where it begins.
func appendQuoted(cur []byte, line string, open, arg, start int) ([]byte, int, error) {
	quote := line[open]
	kind := "double"
	if quote == '\'' {
		kind = "single"
	}
	for i := open + 1; ; i++ {
		if i == len(line) {
			return nil, 0, fmt.Errorf("unbalanced %s quote in argument %d (at byte %d)", kind, arg, start+1)
		}
		c := line[i]
		switch {
		case c == '\\' && quote == '"' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
			v, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
			cur = append(cur, byte(v))
			i += 3
		case c == '\\' && quote == '"' && i+1 < len(line):
			i++
			cur = append(cur, unescape(line[i]))
		case c == '\\' && quote == '\'' && i+1 < len(line) && line[i+1] == '\'':
			cur = append(cur, '\'')
			i++
		case c == quote:
			if i+1 < len(line) && !isCommandSpace(line[i+1]) {
				return nil, 0, fmt.Errorf("a closing %s quote must end argument %d (at byte %d)", kind, arg, i+1)
			}
			return cur, i + 1, nil
		default:
			cur = append(cur, c)
		}
	}
}

// unescape is the byte a backslash followed by e stands for within double
// quotes.
func unescape(e byte) byte {
	switch e {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return e
}

func isCommandSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0 }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ParseCommand splits a command template and checks it against the
// allow-list and the placeholder rules; errors wrap ErrCommandRefused when
// the template splits but may not run.
func ParseCommand(text string) (*Command, error) {
	words, err := SplitCommand(text)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New(`it is empty: write a Redis command such as "HSET {{key}} field {{value}}"`)
	}
	if len(words) > maxCommandArgs {
		return nil, fmt.Errorf("it has %d arguments; at most %d", len(words), maxCommandArgs)
	}
	name := strings.ToUpper(words[0])
	spec, ok := allowed[name]
	if !ok {
		if why, known := refused[name]; known {
			return nil, fmt.Errorf("%w: %s %s", ErrCommandRefused, name, why)
		}
		return nil, fmt.Errorf("%w: %s is not on the allow-list of commands with known key positions (README lists them)", ErrCommandRefused, clip(name))
	}
	argc := len(words)
	if spec.arity > 0 && argc != spec.arity || spec.arity < 0 && argc < -spec.arity {
		want := fmt.Sprintf("%d", spec.arity-1)
		if spec.arity < 0 {
			want = fmt.Sprintf("at least %d", -spec.arity-1)
		}
		return nil, fmt.Errorf("%s takes %s arguments after its name, here %d", name, want, argc-1)
	}
	isKey := make([]bool, argc)
	if spec.first > 0 {
		last := spec.last
		if last < 0 {
			last += argc
		}
		for i := spec.first; i <= last && i < argc; i += spec.step {
			isKey[i] = true
		}
	}
	c := &Command{Text: text, Name: name, Type: spec.typ, Read: spec.read,
		Creates: spec.flags&creates != 0, Expires: spec.flags&expiring != 0, ReadOnly: spec.flags&readOnly != 0}
	upper := make([]string, 0, argc-1)
	for i := 1; i < argc; i++ {
		w := words[i]
		switch {
		case isKey[i] && w != PlaceholderKey:
			return nil, fmt.Errorf("%w: argument %d of %s (%q) is a key: write %s there; a literal key, or one built around a placeholder, could name a key outside the plan's prefix",
				ErrCommandRefused, i, name, clip(w), PlaceholderKey)
		case isKey[i]:
			c.Args = append(c.Args, CommandArg{Kind: ArgKey})
			c.Keys++
		case w == PlaceholderKey:
			return nil, fmt.Errorf("%w: argument %d of %s is %s, but it is not a key position of %s: %s stands only where the command takes a key",
				ErrCommandRefused, i, name, PlaceholderKey, name, PlaceholderKey)
		case w == PlaceholderValue:
			c.Args = append(c.Args, CommandArg{Kind: ArgValue})
		case strings.Contains(w, "{{") || strings.Contains(w, "}}"):
			return nil, fmt.Errorf("argument %d (%q) holds braces but is not a placeholder: write %s or %s as a whole argument", i, clip(w), PlaceholderKey, PlaceholderValue)
		default:
			c.Args = append(c.Args, CommandArg{Kind: ArgLiteral, Literal: w})
		}
		upper = append(upper, strings.ToUpper(w))
	}
	if c.Keys > maxCommandKeys {
		return nil, fmt.Errorf("it has %d %s placeholders; at most %d", c.Keys, PlaceholderKey, maxCommandKeys)
	}
	if spec.check != nil {
		if err := spec.check(upper); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCommandRefused, err)
		}
	}
	if name == "SET" && setExpires(upper) {
		c.Expires = true
	}
	return c, nil
}
