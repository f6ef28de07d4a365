package redis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// The cluster's control replies (CLUSTER SLOTS) are read whole, as values,
// unlike the operations' replies, which are only measured.

// value is one RESP2 reply read whole.
type value struct {
	// kind is the reply's type byte: '+' status, '-' error, ':' number,
	// '$' bulk string, '*' array.
	kind  byte
	str   []byte // a status, error or bulk string
	num   int64
	null  bool // a nil bulk string or array
	elems []value
}

// Limits of a control reply: CLUSTER SLOTS of the largest cluster (one
// range per slot, a few nodes each) stays far below them.
const (
	maxControlElems = 1 << 20
	maxControlBulk  = 1 << 20
)

// readValue reads one whole reply; depth is how deep in arrays it is.
func readValue(r *bufio.Reader, depth int) (value, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return value{}, fmt.Errorf("redis: reading a reply: %w", err)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return value{}, fmt.Errorf("redis: malformed reply line %q", clip(line))
	}
	line = line[:len(line)-2]
	v := value{kind: line[0]}
	switch v.kind {
	case '+', '-':
		v.str = append([]byte(nil), line[1:]...)
		return v, nil
	case ':':
		v.num, err = strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("redis: malformed number reply %q", clip(line))
		}
		return v, nil
	case '$', '*':
	default:
		return value{}, fmt.Errorf("redis: unexpected reply %q", clip(line))
	}
	n, err := strconv.Atoi(string(line[1:]))
	switch {
	case err != nil || n < -1:
		return value{}, fmt.Errorf("redis: malformed reply %q", clip(line))
	case n == -1:
		v.null = true
		return v, nil
	case v.kind == '$' && n > maxControlBulk:
		return value{}, fmt.Errorf("redis: control reply of %d bytes, more than %d", n, maxControlBulk)
	case v.kind == '$':
		v.str = make([]byte, n+2)
		if _, err := io.ReadFull(r, v.str); err != nil {
			return value{}, fmt.Errorf("redis: reading a bulk reply: %w", err)
		}
		if v.str[n] != '\r' || v.str[n+1] != '\n' {
			return value{}, errors.New("redis: bulk reply not ended by CRLF")
		}
		v.str = v.str[:n]
		return v, nil
	case n > maxControlElems:
		return value{}, fmt.Errorf("redis: control reply of %d elements, more than %d", n, maxControlElems)
	case n > 0 && depth == maxNesting:
		return value{}, fmt.Errorf("redis: reply nests arrays deeper than %d", maxNesting)
	}
	// Elements are appended as they are read, not allocated by the length
	// the server claims.
	for range n {
		e, err := readValue(r, depth+1)
		if err != nil {
			return value{}, err
		}
		v.elems = append(v.elems, e)
	}
	return v, nil
}

// slotRange is one range of hash slots and the address of the master
// that serves it.
type slotRange struct {
	first, last int
	addr        string
}

// parseSlots reads a CLUSTER SLOTS reply: per range, its first and last
// slot and its nodes, master first, each as [ip, port, id, ...]. An empty
// ip means the node that was asked (asked is its host), as Redis sends
// when it does not know its own address; "?" is a node without a known
// endpoint, which cannot be routed to.
func parseSlots(v value, asked string) ([]slotRange, error) {
	if v.kind == '-' {
		return nil, fmt.Errorf("CLUSTER SLOTS: %s", clip(v.str))
	}
	if v.kind != '*' || v.null {
		return nil, fmt.Errorf("CLUSTER SLOTS: reply is not an array (type %q)", v.kind)
	}
	out := make([]slotRange, 0, len(v.elems))
	for i, e := range v.elems {
		if e.kind != '*' || len(e.elems) < 3 {
			return nil, fmt.Errorf("CLUSTER SLOTS: range %d is not an array of first slot, last slot and nodes", i)
		}
		first, last, master := e.elems[0], e.elems[1], e.elems[2]
		if first.kind != ':' || last.kind != ':' || first.num < 0 || last.num < first.num || last.num >= slotCount {
			return nil, fmt.Errorf("CLUSTER SLOTS: range %d: slots %d to %d are not a range of 0 to %d", i, first.num, last.num, slotCount-1)
		}
		if master.kind != '*' || len(master.elems) < 2 || master.elems[0].kind != '$' || master.elems[1].kind != ':' {
			return nil, fmt.Errorf("CLUSTER SLOTS: range %d: its master is not [ip, port, ...]", i)
		}
		host, port := string(master.elems[0].str), master.elems[1].num
		switch {
		case host == "?":
			return nil, fmt.Errorf("CLUSTER SLOTS: slots %d to %d: their master has no known endpoint", first.num, last.num)
		case host == "":
			host = asked
		}
		if port <= 0 || port > 65535 || strings.ContainsAny(host, ", /") {
			return nil, fmt.Errorf("CLUSTER SLOTS: slots %d to %d: master %q port %d is not an address", first.num, last.num, clip([]byte(host)), port)
		}
		out = append(out, slotRange{first: int(first.num), last: int(last.num), addr: net.JoinHostPort(host, strconv.FormatInt(port, 10))})
	}
	return out, nil
}

// redirection is a node's MOVED or ASK error reply: the slot and the
// address of the node to ask instead.
type redirection struct {
	ask  bool
	slot int
	addr string
}

// parseRedirection reads an error reply's message ("MOVED 3999
// 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381"); ok is false for any other
// error. An address without a host (":6381") names the host of the node
// that replied, from, as go-redis reads it.
func parseRedirection(msg, from string) (r redirection, ok bool) {
	verb, rest, _ := strings.Cut(msg, " ")
	switch verb {
	case "MOVED":
	case "ASK":
		r.ask = true
	default:
		return redirection{}, false
	}
	slot, addr, found := strings.Cut(rest, " ")
	n, err := strconv.Atoi(slot)
	if !found || err != nil || n < 0 || n >= slotCount {
		return redirection{}, false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || strings.ContainsAny(addr, ", /") {
		return redirection{}, false
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return redirection{}, false
	}
	if host == "" {
		fromHost, _, err := net.SplitHostPort(from)
		if err != nil {
			return redirection{}, false
		}
		addr = net.JoinHostPort(fromHost, port)
	}
	r.slot, r.addr = n, addr
	return r, true
}
