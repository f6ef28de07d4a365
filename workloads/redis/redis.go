// Package redis is tailgate's Redis driver: GET and SET through go-redis,
// every key under the plan's prefix, never a destructive or blocking command.
//
// Targets: redis://[user:password@]host:port[/db], rediss:// for TLS (go-redis
// URL options such as ?skip_verify=true are honoured), and embedded:redis, an
// in-process Redis-compatible server on a loopback port for runs on machines
// with nothing installed.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tailgate-dev/tailgate/workloads"
)

func init() {
	// go-redis logs dial failures to stderr on its own; tailgate counts and
	// reports errors itself and keeps the log for its report.
	goredis.SetLogger(silent{})
	workloads.Register("redis", Open)
	workloads.Register("rediss", Open)
	workloads.Register("embedded:redis", OpenEmbedded)
}

// silent discards go-redis's internal log lines.
type silent struct{}

func (silent) Printf(context.Context, string, ...interface{}) {}

// Driver loads one Redis target through a pool of the plan's connections.
type Driver struct {
	client   *goredis.Client
	ops      []func(ctx context.Context, c *goredis.Client, op *workloads.Op) error
	describe string
	embedded *miniredis.Miniredis
}

var _ workloads.Driver = (*Driver)(nil)

// Open builds a driver for a redis:// or rediss:// target.
func Open(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	opt, err := goredis.ParseURL(target.String())
	if err != nil {
		return nil, fmt.Errorf("component %q: target %q: %w", spec.Component.Name,
			workloads.Redact(target.String(), spec.Secrets), workloads.RedactError(err, spec.Secrets))
	}
	return newDriver(opt, spec, workloads.Redact(target.Redacted(), spec.Secrets))
}

// OpenEmbedded starts an in-process Redis-compatible server on a loopback
// port and builds a driver for it.
func OpenEmbedded(_ context.Context, _ *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("component %q: starting the embedded Redis server: %w", spec.Component.Name, err)
	}
	d, err := newDriver(&goredis.Options{Addr: srv.Addr()}, spec, "embedded:redis (in-process server at "+srv.Addr()+")")
	if err != nil {
		srv.Close()
		return nil, err
	}
	d.embedded = srv
	return d, nil
}

func newDriver(opt *goredis.Options, spec *workloads.Spec, describe string) (*Driver, error) {
	w := &spec.Component.Workload
	conns := max(w.Connections, 1)
	opt.PoolSize = conns
	opt.MinIdleConns = 0
	opt.MaxRetries = -1 // a retry would hide a timeout inside a fast latency
	opt.DialTimeout = min(w.Timeout, 5*time.Second)
	opt.ReadTimeout = w.Timeout
	opt.WriteTimeout = w.Timeout
	opt.PoolTimeout = w.Timeout
	opt.DisableIdentity = true
	opt.Protocol = 2
	if opt.TLSConfig != nil {
		tc, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", spec.Component.Name, err)
		}
		if tc.ServerName == "" {
			tc.ServerName = opt.TLSConfig.ServerName
		}
		tc.InsecureSkipVerify = tc.InsecureSkipVerify || opt.TLSConfig.InsecureSkipVerify
		opt.TLSConfig = tc
	}
	d := &Driver{describe: describe}
	for _, name := range spec.Operations() {
		switch name {
		case "get":
			d.ops = append(d.ops, get)
		case "set":
			d.ops = append(d.ops, set)
		default:
			return nil, fmt.Errorf("component %q: redis does not speak operation %q (get, set)", spec.Component.Name, name)
		}
	}
	d.client = goredis.NewClient(opt)
	return d, nil
}

func get(ctx context.Context, c *goredis.Client, op *workloads.Op) error {
	err := c.Get(ctx, string(op.Key)).Err()
	if errors.Is(err, goredis.Nil) {
		return nil // a miss is an answer
	}
	return classify(err)
}

func set(ctx context.Context, c *goredis.Client, op *workloads.Op) error {
	return classify(c.Set(ctx, string(op.Key), op.Value, 0).Err())
}

// classify turns a server's error reply into a counted status.
func classify(err error) error {
	var re goredis.Error
	if err != nil && errors.As(err, &re) && !isNetwork(err) {
		return &workloads.StatusError{Kind: "redis " + firstWord(re.Error()), Detail: re.Error()}
	}
	return err
}

func isNetwork(err error) bool {
	return workloads.ErrorKind(err) != workloads.KindOther
}

func firstWord(s string) string {
	for i, r := range s {
		if r == ' ' {
			return s[:i]
		}
	}
	return s
}

// Connect proves the target answers (PING) and returns a connection handle.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	if err := d.client.Ping(ctx).Err(); err != nil {
		return nil, err
	}
	return &conn{d: d}, nil
}

// Describe names the target, password redacted.
func (d *Driver) Describe() string { return d.describe }

// Close closes the pool and stops an embedded server.
func (d *Driver) Close() error {
	err := d.client.Close()
	if d.embedded != nil {
		d.embedded.Close()
	}
	return err
}

type conn struct{ d *Driver }

func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	return c.d.ops[op.Kind](ctx, c.d.client, op)
}

func (c *conn) Close() error { return nil }
