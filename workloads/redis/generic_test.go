package redis_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// monitored is one command MONITOR showed: the client that sent it and
// its words.
type monitored struct {
	client string
	words  []string
}

// monitor records the commands the server at addr runs, as MONITOR shows
// them, until stop is called.
func monitor(t *testing.T, addr string) (stop func() []monitored) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	r := bufio.NewReader(nc)
	_, err = nc.Write([]byte("MONITOR\r\n"))
	require.NoError(t, err)
	ok, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", ok)
	var (
		mu   sync.Mutex
		seen []monitored
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			// +1700000000.123456 [0 127.0.0.1:40000] "HSET" "key" ...
			_, rest, _ := strings.Cut(line, " [")
			client, args, found := strings.Cut(strings.TrimRight(rest, "\r\n"), "] ")
			if !found {
				continue
			}
			words, err := slo.SplitCommand(args) // MONITOR quotes as redis-cli reads
			if err != nil {
				t.Errorf("MONITOR line %q: %v", line, err)
				continue
			}
			mu.Lock()
			seen = append(seen, monitored{client, words})
			mu.Unlock()
		}
	}()
	return func() []monitored {
		nc.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func TestGenericCommandsAreSentAsPlannedWithKeysUnderThePrefix(t *testing.T) {
	t.Parallel()
	srv, client := redisWithClient(t)
	require.NoError(t, client.Set(context.Background(), "someone-elses-key", "v", 0).Err())
	templates := map[string]string{
		"profile_write": "HSET {{key}} name {{value}}",
		"profile_read":  "HGET {{key}} name",
		"score":         "ZADD {{key}} 1 {{value}}",
		"feed":          "LPUSH {{key}} {{value}}",
		"feed_move":     "LMOVE {{key}} {{key}} LEFT RIGHT",
		"member_move":   "SMOVE {{key}} {{key}} m3",
		"head":          "GETRANGE {{key}} 0 3",
		"note":          `SET {{key}} "a b" EX 30`,
		"log":           "XADD {{key}} MAXLEN ~ 100 * f {{value}}",
		"log_read":      "XRANGE {{key}} - + COUNT 5",
		// Every string of the keyspace holds a value that is no number.
		"not_a_number": "INCR {{key}}",
	}
	s := spec("redis://"+srv.Addr, 1600, 500*time.Millisecond, time.Second)
	w := &s.Component.Workload
	w.Keys.Count = 40
	w.Values = &slo.Values{Distribution: slo.SizeUniform, Min: 8, Max: 40}
	w.Prefill = slo.Prefill{Enabled: true, Rate: 20000}
	w.Cleanup = true
	w.Mix, w.Commands = nil, map[string]*slo.Command{}
	for name, text := range templates {
		w.Mix = append(w.Mix, slo.MixEntry{Operation: name, Weight: 1})
		w.Commands[name] = &slo.Command{Text: text}
	}
	stop := monitor(t, srv.Addr)
	res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	require.NoError(t, err)
	seen := stop()

	c := res.Components[0]
	for name := range templates {
		op := c.Operation(name)
		require.NotNil(t, op, name)
		if name == "not_a_number" {
			assert.Zero(t, op.Count, "INCR of a string that is no number succeeded")
			assert.Positive(t, op.Errors)
			assert.Equal(t, map[string]int64{"redis ERR": op.Errors}, op.ErrorKinds, "an error reply is an error of its kind")
			continue
		}
		assert.Positive(t, op.Count, "%s measured", name)
		assert.Zero(t, op.Errors, "%s: %v, first: %v", name, op.ErrorKinds, c.FirstErrors)
	}
	for _, read := range []string{"profile_read", "feed_move", "log_read"} {
		op := c.Operation(read)
		assert.Equal(t, op.Count, op.Hits+op.Misses, "%s: every read is a hit or a miss", read)
		assert.Positive(t, op.Hits, "%s of a prefilled keyspace hits", read)
	}
	assert.Zero(t, c.Operation("head").Hits+c.Operation("head").Misses, "GETRANGE neither hits nor misses")

	// Each command went out as its template says: keys of its type under
	// the prefix at its key positions, literals as written, values of the
	// planned sizes; every command that creates keys is followed by their
	// EXPIRE, but for SET ... EX, which sets its own.
	shapes := map[string][]string{ // per argument: key suffix, "=literal" or "value"
		"HSET": {":h", "=name", "value"}, "HGET": {":h", "=name"}, "ZADD": {":z", "=1", "value"},
		"LPUSH": {":l", "value"}, "LMOVE": {":l", ":l", "=LEFT", "=RIGHT"}, "SMOVE": {":s", ":s", "=m3"},
		"GETRANGE": {"", "=0", "=3"},
		"XADD":     {":x", "=MAXLEN", "=~", "=100", "=*", "=f", "value"}, "XRANGE": {":x", "=-", "=+", "=COUNT", "=5"},
	}
	// next is the command client sent after the i-th.
	next := func(i int) []string {
		for _, m := range seen[i+1:] {
			if m.client == seen[i].client {
				return m.words
			}
		}
		return []string{""}
	}
	sent := map[string]int{}
	for i, m := range seen {
		words := m.words
		name := strings.ToUpper(words[0])
		for _, arg := range words[1:] {
			if strings.HasPrefix(arg, "someone") {
				t.Errorf("%q touched a key outside the prefix", words)
			}
		}
		if name == "SET" && len(words) == 5 && words[2] == "a b" {
			sent["SET"]++
			assert.Equal(t, []string{"EX", "30"}, words[3:], "note's own expiry")
			if strings.EqualFold(next(i)[0], "EXPIRE") && next(i)[1] == words[1] {
				t.Errorf("SET ... EX 30 got the run's EXPIRE after it")
			}
			continue
		}
		shape, ok := shapes[name]
		if !ok || name == "HSET" && len(words) == 2+2*8 || name == "ZADD" && len(words) == 2+2*16 || name == "XADD" && len(words) == 5 {
			continue // prefill's and cleanup's own commands
		}
		sent[name]++
		require.Len(t, words, 1+len(shape), "%q", words)
		for j, want := range shape {
			arg := words[1+j]
			switch {
			case want == "value":
				assert.True(t, 8 <= len(arg) && len(arg) <= 40, "%s: a value of %d bytes, want 8 to 40", name, len(arg))
			case strings.HasPrefix(want, "="):
				assert.Equal(t, want[1:], arg, "%s: argument %d", name, j+1)
			default:
				num, ok := strings.CutPrefix(arg, "tailgate:t:")
				num, suffixed := strings.CutSuffix(num, want)
				assert.True(t, ok && suffixed && num != "" && strings.Trim(num, "0123456789") == "",
					"%s: key %q, want a key number under the prefix, then %q", name, arg, want)
			}
		}
		if name == "HSET" || name == "ZADD" || name == "LPUSH" || name == "LMOVE" || name == "SMOVE" || name == "XADD" {
			keys := 1 + map[string]int{"LMOVE": 1, "SMOVE": 1}[name]
			after := i
			for k := range keys {
				expire := next(after)
				for j, m := range seen[after+1:] {
					if m.client == seen[i].client {
						after += 1 + j
						break
					}
				}
				require.Len(t, expire, 3, "%q after %q", expire, words)
				assert.Equal(t, []string{"EXPIRE", words[1+k]}, []string{strings.ToUpper(expire[0]), expire[1]}, "%s is followed by EXPIRE of key %d", name, k+1)
			}
		}
	}
	for _, name := range []string{"HSET", "HGET", "ZADD", "LPUSH", "LMOVE", "SMOVE", "GETRANGE", "SET", "XADD", "XRANGE"} {
		assert.Positive(t, sent[name], "MONITOR saw no %s of the mix", name)
	}
	assert.Zero(t, keysUnder(t, client, "tailgate:t:"), "cleanup deleted every key the commands touched")
	assert.Equal(t, "v", client.Get(context.Background(), "someone-elses-key").Val())
}
