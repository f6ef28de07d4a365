package redis

import (
	"bufio"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func TestRepliesCountAsHitsAndMisses(t *testing.T) {
	tests := []struct {
		op            string
		reply         string
		hits, misses  int32
		wantReplyErrs bool
	}{
		{"get", "$3\r\nabc\r\n", 1, 0, false},
		{"get", "$-1\r\n", 0, 1, false},
		{"mget", "*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n", 2, 1, false},
		{"hmget", "*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n", 0, 4, false},
		{"hgetall", "*0\r\n", 0, 1, false},
		{"hgetall", "*2\r\n$2\r\nf0\r\n$1\r\nv\r\n", 1, 0, false},
		{"lrange", "*-1\r\n", 0, 1, false},
		{"lpop", "$-1\r\n", 0, 1, false},
		{"zscore", "$1\r\n3\r\n", 1, 0, false},
		{"zrank", "$-1\r\n", 0, 1, false},
		{"smembers", "*1\r\n$2\r\nm1\r\n", 1, 0, false},
		{"set", "+OK\r\n", 0, 0, false},
		{"set_nx", "$-1\r\n", 0, 0, false},
		{"hset", ":1\r\n:1\r\n", 0, 0, false},
		{"lpush", ":3\r\n+OK\r\n:1\r\n", 0, 0, false},
		{"hset", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:1\r\n", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+strings.ReplaceAll(tt.reply, "\r\n", " "), func(t *testing.T) {
			kind, ok := operationNamed(tt.op)
			if !ok {
				t.Fatalf("no operation %q", tt.op)
			}
			c := &conn{d: &Driver{cmds: commands}, Pipeline: sock.Pipeline{R: bufio.NewReader(strings.NewReader(tt.reply))}}
			err := c.replies(kind)
			if (err != nil) != tt.wantReplyErrs {
				t.Fatalf("replies: %v", err)
			}
			if c.R.Buffered() != 0 {
				t.Errorf("%d bytes of the operation's replies left unread", c.R.Buffered())
			}
			if err != nil {
				return
			}
			var op workloads.Op
			c.count(kind, &op)
			if op.Hits != tt.hits || op.Misses != tt.misses {
				t.Errorf("%d hits, %d misses, want %d and %d", op.Hits, op.Misses, tt.hits, tt.misses)
			}
		})
	}
}

func TestEveryMixOperationOfRedisHasACommand(t *testing.T) {
	for _, name := range slo.MixOperations(slo.ProtocolRedis) {
		kind, ok := operationNamed(name)
		if !ok {
			t.Errorf("no command for %q", name)
			continue
		}
		if got := commands[kind].read != notRead; got != slo.IsRead(name) {
			t.Errorf("%s: the driver counts hits and misses: %v; the plan judges hit_rate on it: %v", name, got, slo.IsRead(name))
		}
	}
	for _, internal := range []string{"prefill", "cleanup"} {
		if _, ok := operationNamed(internal); ok {
			t.Errorf("%q is tailgate's own, not a mix operation", internal)
		}
	}
}
