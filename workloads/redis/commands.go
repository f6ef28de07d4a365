package redis

import (
	"strconv"

	"github.com/tailgate-dev/tailgate/workloads"
)

// The mix operations and what each sends. Key k is the operation's drawn
// key (prefix and number); the commands on other types than strings use
// k with a suffix of their type, so that a GET never meets a hash and
// every key stays under the prefix:
//
//	get       GET k                          read: nil is a miss
//	set       SET k value EX ttl
//	mget      MGET k k+1 … k+9               read: each nil a miss (key numbers wrap at keys.count)
//	set_nx    SET k value NX EX ttl
//	set_xx    SET k value XX EX ttl
//	del       DEL k
//	hget      HGET k:h f                     read: nil is a miss
//	hmget     HMGET k:h f0 f1 f2 f3          read: each nil a miss
//	hgetall   HGETALL k:h                    read: empty is a miss
//	hset      HSET k:h f value, EXPIRE k:h ttl
//	hdel      HDEL k:h f
//	hincrby   HINCRBY k:h n 1, EXPIRE k:h ttl
//	lpush     LPUSH k:l value, LTRIM k:l 0 63, EXPIRE k:l ttl
//	rpush     RPUSH k:l value, LTRIM k:l -64 -1, EXPIRE k:l ttl
//	lrange    LRANGE k:l 0 9                 read: empty is a miss
//	llen      LLEN k:l
//	lpop      LPOP k:l                       read: nil is a miss
//	rpop      RPOP k:l                       read: nil is a miss
//	sadd      SADD k:s m, EXPIRE k:s ttl
//	smembers  SMEMBERS k:s                   read: empty is a miss
//	srem      SREM k:s m
//	zadd      ZADD k:z n m, EXPIRE k:z ttl
//	zrange    ZRANGE k:z 0 9                 read: empty is a miss
//	zincrby   ZINCRBY k:z 1 m, EXPIRE k:z ttl
//	zrank     ZRANK k:z m                    read: nil is a miss
//	zrem      ZREM k:z m
//	zscore    ZSCORE k:z m                   read: nil is a miss
//	ping      PING
//
// A field f is one of f0 … f7 (n is hincrby's counter, a field of its
// own) and a member m one of m0 … m15, drawn from
// the operation's index, n a score from it; lists are trimmed to 64
// values. Commands of one operation go out in one write; their replies
// are read together.
//
// Prefill writes k (SET … EX) and, for each other type the mix uses, its
// key whole: HSET k:h f0 value … f7 value, RPUSH k:l with 8 values, SADD
// k:s m0 … m15, ZADD k:z 0 m0 … 15 m15, for a stream a generic command
// uses XADD k:x * f0 value, each with its EXPIRE. Cleanup deletes k and
// those keys with one DEL.

// operation is what one Op.Kind does: an index into commands.
type operation uint8

// The operations tailgate sends itself, not named by a mix.
const (
	opGet operation = iota
	opSet
	opFill    // prefill's writes
	opCleanup // cleanup's deletes
	firstMixOnly
)

// readStyle says how a read's reply counts as hits and misses.
type readStyle uint8

const (
	notRead      readStyle = iota
	readOne                // nil is a miss, anything else a hit
	readEach               // an array: each nil element a miss, each other a hit
	readNonEmpty           // an array or map: empty is a miss
)

// family is the type of key an operation works on, by its key suffix.
type family uint8

const (
	familyString family = iota
	familyHash
	familyList
	familySet
	familyZset
	// familyStream is only a generic command's (XADD ...).
	familyStream
	families
)

var familySuffix = [families]string{"", ":h", ":l", ":s", ":z", ":x"}

// command is one operation's rendering and the shape of its reply.
type command struct {
	name   string
	family family
	read   readStyle
	// replies is how many replies the rendered commands get.
	replies int
	// keys is how many keys a generic command takes (see generic.go);
	// 0 for the built-in ones, which draw one.
	keys int
	// idempotent operations may be sent again when the server provably
	// did not process them (see conn.Do).
	idempotent bool
	render     func(c *conn, b []byte, op *workloads.Op) []byte
}

// hashFields, setMembers and the other small tokens the commands use.
var (
	hashFields = tokens("f", 8)
	setMembers = tokens("m", 16)
	one        = []byte("1")
	// counterField is the field hincrby counts in: one no write sets to a
	// value that is not a number.
	counterField = []byte("n")
	trimLeft     = [2][]byte{[]byte("0"), []byte("63")}
	trimRight    = [2][]byte{[]byte("-64"), []byte("-1")}
	rangeTen     = [2][]byte{[]byte("0"), []byte("9")}
	fillList     = 8
	streamAutoID = []byte("*")
)

func tokens(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = strconv.AppendInt([]byte(prefix), int64(i), 10)
	}
	return out
}

// mgetKeys is how many keys one mget reads.
const mgetKeys = 10

// commands is indexed by operation; the mix's operations are found by name.
var commands = []command{
	opGet: {name: "get", read: readOne, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "GET"), op, familyString)
	}},
	opSet: {name: "set", replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(c.key(c.header(b, 5, "SET"), op, familyString), op.Value)
		return append(b, c.d.expiry...)
	}},
	opFill:    {name: "prefill", render: (*conn).renderFill},
	opCleanup: {name: "cleanup", replies: 1, render: (*conn).renderCleanup},
	{name: "mget", read: readEach, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		if c.d.cluster {
			return c.clusterMget(b, op)
		}
		b = c.header(b, 1+mgetKeys, "MGET")
		for i := range uint64(mgetKeys) {
			c.keyBuf = strconv.AppendUint(append(c.keyBuf[:0], c.d.prefix...), (op.KeyIndex+i)%c.d.keyCount, 10)
			b = appendBulk(b, c.keyBuf)
		}
		return b
	}},
	{name: "set_nx", replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(appendBulk(c.key(c.header(b, 6, "SET"), op, familyString), op.Value), []byte("NX"))
		return append(b, c.d.expiry...)
	}},
	{name: "set_xx", replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(appendBulk(c.key(c.header(b, 6, "SET"), op, familyString), op.Value), []byte("XX"))
		return append(b, c.d.expiry...)
	}},
	{name: "del", replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "DEL"), op, familyString)
	}},
	{name: "hget", family: familyHash, read: readOne, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "HGET"), op, familyHash), hashFields[op.Index%8])
	}},
	{name: "hmget", family: familyHash, read: readEach, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = c.key(c.header(b, 6, "HMGET"), op, familyHash)
		for i := range uint64(4) {
			b = appendBulk(b, hashFields[(op.Index+i)%8])
		}
		return b
	}},
	{name: "hgetall", family: familyHash, read: readNonEmpty, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "HGETALL"), op, familyHash)
	}},
	{name: "hset", family: familyHash, replies: 2, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(appendBulk(c.key(c.header(b, 4, "HSET"), op, familyHash), hashFields[op.Index%8]), op.Value)
		return c.expire(b, op, familyHash)
	}},
	{name: "hdel", family: familyHash, replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "HDEL"), op, familyHash), hashFields[op.Index%8])
	}},
	{name: "hincrby", family: familyHash, replies: 2, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(appendBulk(c.key(c.header(b, 4, "HINCRBY"), op, familyHash), counterField), one)
		return c.expire(b, op, familyHash)
	}},
	{name: "lpush", family: familyList, replies: 3, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(c.key(c.header(b, 3, "LPUSH"), op, familyList), op.Value)
		b = appendBulk(appendBulk(c.key(c.header(b, 4, "LTRIM"), op, familyList), trimLeft[0]), trimLeft[1])
		return c.expire(b, op, familyList)
	}},
	{name: "rpush", family: familyList, replies: 3, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(c.key(c.header(b, 3, "RPUSH"), op, familyList), op.Value)
		b = appendBulk(appendBulk(c.key(c.header(b, 4, "LTRIM"), op, familyList), trimRight[0]), trimRight[1])
		return c.expire(b, op, familyList)
	}},
	{name: "lrange", family: familyList, read: readNonEmpty, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(appendBulk(c.key(c.header(b, 4, "LRANGE"), op, familyList), rangeTen[0]), rangeTen[1])
	}},
	{name: "llen", family: familyList, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "LLEN"), op, familyList)
	}},
	{name: "lpop", family: familyList, read: readOne, replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "LPOP"), op, familyList)
	}},
	{name: "rpop", family: familyList, read: readOne, replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "RPOP"), op, familyList)
	}},
	{name: "sadd", family: familySet, replies: 2, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(c.key(c.header(b, 3, "SADD"), op, familySet), setMembers[op.Index%16])
		return c.expire(b, op, familySet)
	}},
	{name: "smembers", family: familySet, read: readNonEmpty, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return c.key(c.header(b, 2, "SMEMBERS"), op, familySet)
	}},
	{name: "srem", family: familySet, replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "SREM"), op, familySet), setMembers[op.Index%16])
	}},
	{name: "zadd", family: familyZset, replies: 2, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = c.key(c.header(b, 4, "ZADD"), op, familyZset)
		c.keyBuf = strconv.AppendUint(c.keyBuf[:0], op.Index%1000, 10)
		b = appendBulk(appendBulk(b, c.keyBuf), setMembers[op.Index%16])
		return c.expire(b, op, familyZset)
	}},
	{name: "zrange", family: familyZset, read: readNonEmpty, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(appendBulk(c.key(c.header(b, 4, "ZRANGE"), op, familyZset), rangeTen[0]), rangeTen[1])
	}},
	{name: "zincrby", family: familyZset, replies: 2, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		b = appendBulk(appendBulk(c.key(c.header(b, 4, "ZINCRBY"), op, familyZset), one), setMembers[op.Index%16])
		return c.expire(b, op, familyZset)
	}},
	{name: "zrank", family: familyZset, read: readOne, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "ZRANK"), op, familyZset), setMembers[op.Index%16])
	}},
	{name: "zrem", family: familyZset, replies: 1, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "ZREM"), op, familyZset), setMembers[op.Index%16])
	}},
	{name: "zscore", family: familyZset, read: readOne, replies: 1, idempotent: true, render: func(c *conn, b []byte, op *workloads.Op) []byte {
		return appendBulk(c.key(c.header(b, 3, "ZSCORE"), op, familyZset), setMembers[op.Index%16])
	}},
	{name: "ping", replies: 1, idempotent: true, render: func(c *conn, b []byte, _ *workloads.Op) []byte {
		return c.header(b, 1, "PING")
	}},
}

// operationNamed finds a mix operation by name.
func operationNamed(name string) (operation, bool) {
	for i, cmd := range commands {
		if cmd.name == name && (i < int(opFill) || i >= int(firstMixOnly)) {
			return operation(i), true
		}
	}
	return 0, false
}

// asking is the command a node that answered ASK needs before each
// command of the redirected operation (see clusterConn).
var asking = appendCommand(nil, "ASKING")

// header appends the array header of a command of n parts and its name,
// after ASKING when the connection is following an ASK redirection.
func (c *conn) header(b []byte, n int, name string) []byte {
	if c.asking {
		b = append(b, asking...)
	}
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\n$"...)
	b = strconv.AppendInt(b, int64(len(name)), 10)
	b = append(b, "\r\n"...)
	b = append(b, name...)
	return append(b, "\r\n"...)
}

// key appends op's key of family f as a bulk string.
func (c *conn) key(b []byte, op *workloads.Op, f family) []byte {
	suffix := familySuffix[f]
	if c.d.cluster {
		c.keyBuf = append(c.d.clusterKey(c.keyBuf[:0], op.KeyIndex), suffix...)
		return appendBulk(b, c.keyBuf)
	}
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(op.Key)+len(suffix)), 10)
	b = append(b, "\r\n"...)
	b = append(b, op.Key...)
	b = append(b, suffix...)
	return append(b, "\r\n"...)
}

// expire appends EXPIRE of op's key of family f with the run's ttl.
func (c *conn) expire(b []byte, op *workloads.Op, f family) []byte {
	return append(c.key(c.header(b, 3, "EXPIRE"), op, f), c.d.ttl...)
}

// renderFill renders prefill's writes of op's keys: the string and each
// other family the mix uses, whole (see the table above).
func (c *conn) renderFill(b []byte, op *workloads.Op) []byte {
	b = appendBulk(c.key(c.header(b, 5, "SET"), op, familyString), op.Value)
	b = append(b, c.d.expiry...)
	for f := familyHash; f < families; f++ {
		if !c.d.families[f] {
			continue
		}
		switch f {
		case familyHash:
			b = c.key(c.header(b, 2+2*len(hashFields), "HSET"), op, f)
			for _, field := range hashFields {
				b = appendBulk(appendBulk(b, field), op.Value)
			}
		case familyList:
			b = c.key(c.header(b, 2+fillList, "RPUSH"), op, f)
			for range fillList {
				b = appendBulk(b, op.Value)
			}
		case familySet:
			b = c.key(c.header(b, 2+len(setMembers), "SADD"), op, f)
			for _, m := range setMembers {
				b = appendBulk(b, m)
			}
		case familyZset:
			b = c.key(c.header(b, 2+2*len(setMembers), "ZADD"), op, f)
			for i, m := range setMembers {
				c.keyBuf = strconv.AppendInt(c.keyBuf[:0], int64(i), 10)
				b = appendBulk(appendBulk(b, c.keyBuf), m)
			}
		case familyStream:
			b = appendBulk(appendBulk(appendBulk(c.key(c.header(b, 5, "XADD"), op, f), streamAutoID), hashFields[0]), op.Value)
		}
		b = c.expire(b, op, f)
	}
	return b
}

// renderCleanup renders cleanup's DEL of op's keys of every family the
// mix uses.
func (c *conn) renderCleanup(b []byte, op *workloads.Op) []byte {
	n := 1
	for f := familyHash; f < families; f++ {
		if c.d.families[f] {
			n++
		}
	}
	b = c.key(c.header(b, 1+n, "DEL"), op, familyString)
	for f := familyHash; f < families; f++ {
		if c.d.families[f] {
			b = c.key(b, op, f)
		}
	}
	return b
}

// repliesOf is how many replies operation kind gets.
func (d *Driver) repliesOf(kind operation) int {
	if kind == opFill {
		n := 1
		for f := familyHash; f < families; f++ {
			if d.families[f] {
				n += 2
			}
		}
		return n
	}
	return d.cmds[kind].replies
}
