package slo

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The protocols a target can speak, as Protocol returns them.
const (
	ProtocolRedis    = "redis"
	ProtocolMemcache = "memcache"
	ProtocolHTTP     = "http"
	ProtocolGRPC     = "grpc"
)

// EmbeddedRedis is the target that starts an in-process Redis-compatible server.
const EmbeddedRedis = "embedded:redis"

// The key-value operations a mix may weight.
const (
	OperationGet = "get"
	OperationSet = "set"
)

// readOperations are the mix operations whose answers are hits or misses.
var readOperations = []string{OperationGet, "mget", "hget", "hmget", "hgetall", "lrange", "lpop", "rpop", "smembers", "zrange", "zrank", "zscore"}

// redisOperations lists the operations a Redis mix may name, in display
// order: rpc-perf's Redis verbs (workloads/redis says what each sends).
var redisOperations = []string{OperationGet, OperationSet, "mget", "set_nx", "set_xx", "del",
	"hget", "hmget", "hgetall", "hset", "hdel", "hincrby",
	"lpush", "rpush", "lrange", "llen", "lpop", "rpop",
	"sadd", "smembers", "srem",
	"zadd", "zrange", "zincrby", "zrank", "zrem", "zscore", "ping"}

// MixOperations lists the operations a key-value mix of the protocol may
// name, in display order.
func MixOperations(protocol string) []string {
	switch protocol {
	case ProtocolRedis:
		return redisOperations
	case ProtocolMemcache:
		return memcacheOperations
	}
	return mixOperations
}

// IsRead reports whether a key-value operation reads keys, so that its
// answers count as hits and misses.
func IsRead(operation string) bool { return contains(readOperations, operation) }

// Reads reports whether the component's operation op reads keys, so that
// its answers count as hits and misses: a built-in read (IsRead), or a
// generic command whose replies are counted (Command.Read).
func (c *Component) Reads(op string) bool {
	if cmd := c.Workload.Commands[op]; cmd != nil {
		return cmd.Read != NotRead
	}
	return IsRead(op)
}

// mixOperations are the operations every key-value protocol takes.
var mixOperations = []string{OperationGet, OperationSet}

// memcacheOperations lists the operations a Memcached mix may name, in
// display order (workloads/memcache says what each sends).
var memcacheOperations = []string{OperationGet, "mget", OperationSet, "add", "replace", "delete", "incr", "touch"}

// The wire protocols a Memcached workload may speak (workload.protocol).
const (
	MemcacheText WireProtocol = "text"
	MemcacheMeta WireProtocol = "meta"
)

// schemes maps every accepted target form to its protocol, in display
// order. A unix scheme names a socket path instead of a host.
var schemes = []struct {
	scheme, protocol string
	unix             bool
}{
	{"redis", ProtocolRedis, false},
	{"rediss", ProtocolRedis, false},
	{"redis+unix", ProtocolRedis, true},
	{"redis+cluster", ProtocolRedis, false},
	{"rediss+cluster", ProtocolRedis, false},
	{"memcache", ProtocolMemcache, false},
	{"memcaches", ProtocolMemcache, false},
	{"memcache+unix", ProtocolMemcache, true},
	{"http", ProtocolHTTP, false},
	{"https", ProtocolHTTP, false},
	{"grpc", ProtocolGRPC, false},
	{"grpcs", ProtocolGRPC, false},
}

// schemeList renders the accepted target forms for messages.
func schemeList() string {
	forms := make([]string, 0, len(schemes)+1)
	for _, s := range schemes {
		forms = append(forms, s.scheme+"://")
	}
	return strings.Join(append(forms, EmbeddedRedis), ", ")
}

// Protocol returns the protocol a target URL speaks: "redis" (redis://,
// rediss://, redis+unix://, redis+cluster://, rediss+cluster://,
// embedded:redis), "memcache" (memcache://,
// memcaches://, memcache+unix://), "http" (http://, https://) or "grpc"
// (grpc://, grpcs://). The error never repeats the target, which may
// hold a password.
func Protocol(target string) (string, error) {
	if target == EmbeddedRedis {
		return ProtocolRedis, nil
	}
	if target == "" {
		return "", errors.New("target is empty")
	}
	u, err := ParseTarget(target)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", fmt.Errorf("target is not a URL: %v", err)
	}
	if u.Scheme == "" {
		return "", fmt.Errorf("target has no scheme; allowed: %s", schemeList())
	}
	for _, s := range schemes {
		if u.Scheme != s.scheme {
			continue
		}
		switch {
		case s.unix && (u.Host != "" || !strings.HasPrefix(u.Path, "/")):
			return "", fmt.Errorf("%s target names no absolute socket path, or names a host; write it as %s:///path/to.sock", s.scheme, s.scheme)
		case !s.unix && u.Host == "":
			return "", fmt.Errorf("%s target has no host; write it as %s://host:port", s.scheme, s.scheme)
		}
		return s.protocol, nil
	}
	if u.Scheme == "embedded" {
		return "", fmt.Errorf("unsupported embedded target %q; only %s exists", clip(u.Opaque), EmbeddedRedis)
	}
	return "", fmt.Errorf("unsupported scheme %q; allowed: %s", clip(u.Scheme), schemeList())
}

// isKeyValue reports whether a protocol is driven by a get/set mix rather
// than by named requests.
func isKeyValue(protocol string) bool {
	return protocol == ProtocolRedis || protocol == ProtocolMemcache
}

// Component returns the component named name, or nil.
func (p *Plan) Component(name string) *Component {
	for i := range p.Components {
		if p.Components[i].Name == name {
			return &p.Components[i]
		}
	}
	return nil
}

// Operations returns the names of the operations the component issues, in
// file order: its mix operations (key-value) or its request names (HTTP,
// gRPC). AllOperations is not among them.
func (c *Component) Operations() []string {
	ops := make([]string, 0, len(c.Workload.Mix)+len(c.Workload.Requests))
	for _, m := range c.Workload.Mix {
		ops = append(ops, m.Operation)
	}
	for _, r := range c.Workload.Requests {
		ops = append(ops, r.Name)
	}
	return ops
}

// Share returns the fraction (0..1) of the component's operations that op
// makes up by weight: 1 for AllOperations, 0 for an operation it never issues.
// Rate × Share is the rate an operation is asked for. The engine draws each
// entry by its own weight and records it under its operation's name, so an
// operation listed twice (which validation refuses, but a plan built in code
// may hold) issues the sum of its weights.
func (c *Component) Share(op string) float64 {
	if op == AllOperations {
		return 1
	}
	var weight, total int
	for _, m := range c.Workload.Mix {
		total += m.Weight
		if m.Operation == op {
			weight += m.Weight
		}
	}
	for _, r := range c.Workload.Requests {
		total += r.Weight
		if r.Name == op {
			weight += r.Weight
		}
	}
	if total <= 0 {
		return 0
	}
	return float64(weight) / float64(total)
}

// SetTarget points the named component at another target, as --target
// NAME=URL and TAILGATE_TARGET_<NAME> do, after checking that the target
// speaks the protocol the component's workload was written for. The
// secrets of the new target's userinfo (TargetSecrets) join Secrets. The
// error never shows the target's userinfo; callers prefix it with where the
// target came from.
func (p *Plan) SetTarget(name, target string) error {
	c := p.Component(name)
	if c == nil {
		return fmt.Errorf("no component %q in plan %q (components: %s)", clip(name), p.File, strings.Join(p.ComponentNames(), ", "))
	}
	newProto, err := Protocol(target)
	if err != nil {
		return fmt.Errorf("component %q: %w", name, err)
	}
	if oldProto, _ := Protocol(c.Target); oldProto != newProto {
		return fmt.Errorf("component %q: the plan's workload is for %s, the target %q speaks %s",
			name, oldProto, redactTarget(target), newProto)
	}
	changed := *c
	changed.Target = target
	v := newValidator(p.File, nil)
	v.target(&changed)
	if len(v.errs) > 0 {
		return fmt.Errorf("component %q: %s", name, v.errs[0].Msg)
	}
	c.Target = target
	for _, secret := range TargetSecrets(target) {
		p.addSecret(secret)
	}
	return nil
}

// ComponentNames lists the components' names in file order.
func (p *Plan) ComponentNames() []string {
	names := make([]string, len(p.Components))
	for i, c := range p.Components {
		names[i] = c.Name
	}
	return names
}
