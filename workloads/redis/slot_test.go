package redis

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
)

// keySlot agrees with redis-server's CLUSTER KEYSLOT on hash tags of every
// shape, tailgate's own cluster keys and random binary keys.
func TestKeySlotMatchesRedisServer(t *testing.T) {
	srv := testserver.Redis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(testserver.FreePort(t)))
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer client.Close()
	keys := []string{"", "a", "foo", "{", "}", "{}", "}{", "{}a", "a{}", "{a}", "a{b}c", "a{b}{c}", "{{a}}", "{a{b}}",
		"a{}{b}", "{}{b}", "a{b", "a}b{c}", "tailgate:{0}7", "tailgate:{12}123", "{user1000}.following", "123456789"}
	d := &Driver{prefix: []byte("tailgate:")}
	for n := range uint64(1000) {
		keys = append(keys, string(d.clusterKey(nil, n)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1500 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = "ab{}:\x00\xff"[rng.IntN(7)]
		}
		keys = append(keys, string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pipe := client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.ClusterKeySlot(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	for i, k := range keys {
		if !assert.EqualValues(t, cmds[i].Val(), keySlot([]byte(k)), "key %q", k) {
			break
		}
	}
}

func TestParseRedirection(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want redirection
		ok   bool
	}{
		{"MOVED 3999 127.0.0.1:6381", redirection{slot: 3999, addr: "127.0.0.1:6381"}, true},
		{"ASK 0 10.0.0.2:7000", redirection{ask: true, slot: 0, addr: "10.0.0.2:7000"}, true},
		{"MOVED 16383 [::1]:7000", redirection{slot: 16383, addr: "[::1]:7000"}, true},
		{"MOVED 12 :7005", redirection{slot: 12, addr: "127.0.0.9:7005"}, true},
		{"MOVED 16384 127.0.0.1:6381", redirection{}, false},
		{"MOVED -1 127.0.0.1:6381", redirection{}, false},
		{"MOVED 12 127.0.0.1", redirection{}, false},
		{"MOVED 12 127.0.0.1:0", redirection{}, false},
		{"MOVED 12", redirection{}, false},
		{"ERR unknown command", redirection{}, false},
		{"TRYAGAIN Multiple keys request during rehashing of slot", redirection{}, false},
	} {
		t.Run(tt.msg, func(t *testing.T) {
			got, ok := parseRedirection(tt.msg, "127.0.0.9:7000")
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSlots(t *testing.T) {
	for _, tt := range []struct {
		name, reply string
		want        []slotRange
		err         string
	}{
		{"a master and a replica per range",
			"*2\r\n*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nr1\r\n" +
				"*3\r\n:5461\r\n:16383\r\n*4\r\n$8\r\n10.0.0.2\r\n:7001\r\n$2\r\nid\r\n*0\r\n",
			[]slotRange{{0, 5460, "127.0.0.1:7000"}, {5461, 16383, "10.0.0.2:7001"}}, ""},
		{"an empty ip is the node asked", "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$0\r\n\r\n:7000\r\n", []slotRange{{0, 16383, "127.0.0.5:7000"}}, ""},
		{"no ranges", "*0\r\n", []slotRange{}, ""},
		{"an error reply", "-ERR This instance has cluster support disabled\r\n", nil, "cluster support disabled"},
		{"slots out of range", "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n", nil, "not a range"},
		{"an unknown endpoint", "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\n?\r\n:1\r\n", nil, "no known endpoint"},
		{"a bad port", "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:70000\r\n", nil, "not an address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := slotsOf([]byte(tt.reply))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// slotsOf reads a CLUSTER SLOTS reply asked of 127.0.0.5.
func slotsOf(reply []byte) ([]slotRange, error) {
	v, err := readValue(bufio.NewReader(bytes.NewReader(reply)), 0)
	if err != nil {
		return nil, err
	}
	return parseSlots(v, "127.0.0.5")
}

// FuzzClusterSlots reads any bytes as a CLUSTER SLOTS reply: nothing
// panics, and a map it accepts has ranges within the slots, each with an
// address of a host and a port.
func FuzzClusterSlots(f *testing.F) {
	for _, seed := range []string{
		"*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n",
		"*2\r\n*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nr1\r\n*3\r\n:5461\r\n:16383\r\n*2\r\n$0\r\n\r\n:7001\r\n",
		"*0\r\n", "-ERR cluster support disabled\r\n", "*1\r\n*3\r\n:5\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",
		"*99999999\r\n", "$1048577\r\n", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ranges, err := slotsOf(in)
		if err != nil {
			return
		}
		for _, r := range ranges {
			if r.first < 0 || r.last < r.first || r.last >= slotCount {
				t.Fatalf("range %d-%d accepted", r.first, r.last)
			}
			host, port, err := splitAddr(r.addr)
			if err != nil || port <= 0 || port > 65535 || strings.ContainsAny(host, ", /") {
				t.Fatalf("address %q accepted", r.addr)
			}
		}
	})
}

func splitAddr(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, strconv.ErrSyntax
	}
	port, err := strconv.Atoi(addr[i+1:])
	return addr[:i], port, err
}

// FuzzRedirection reads any error message as MOVED or ASK: nothing
// panics, and what it accepts reads back the same when written again.
func FuzzRedirection(f *testing.F) {
	for _, seed := range []string{"MOVED 3999 127.0.0.1:6381", "ASK 0 [::1]:7000", "MOVED 1 :7000", "MOVED 16384 a:1",
		"ASK  1 a:1", "MOVED 1 a:1 extra", "ERR x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		r, ok := parseRedirection(msg, "127.0.0.9:7000")
		if !ok {
			return
		}
		if r.slot < 0 || r.slot >= slotCount {
			t.Fatalf("slot %d accepted from %q", r.slot, msg)
		}
		verb := "MOVED"
		if r.ask {
			verb = "ASK"
		}
		again, ok := parseRedirection(verb+" "+strconv.Itoa(r.slot)+" "+r.addr, "127.0.0.9:7000")
		if !ok || again != r {
			t.Fatalf("%q read as %+v, written again as %+v (%v)", msg, r, again, ok)
		}
	})
}
