package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// A redis+unix:// target loads a server listening on a unix socket only,
// with AUTH and SELECT from the URL, every key under the prefix.
func TestAUnixSocketTargetIsLoaded(t *testing.T) {
	srv := testserver.RedisUnix(t, "--requirepass", "pw-unix-1")
	s := spec("redis+unix://:pw-unix-1@"+srv.Addr+"?db=3", 300, time.Second, time.Second)
	s.Secrets = []string{"pw-unix-1"}
	d, err := workloads.Open(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, "redis+unix://:xxxxx@"+srv.Addr+"?db=3", d.Describe())
	d.Close()
	comp := testserver.MeasureEveryOperation(t, s)
	assert.Zero(t, comp.Operation("all").Errors)

	client := goredis.NewClient(&goredis.Options{Network: "unix", Addr: srv.Addr, Password: "pw-unix-1", DB: 3})
	defer client.Close()
	keys, err := client.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys, "no key in database 3")
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "tailgate:t:"), "key %q outside the prefix", k)
	}
}

// A server that requires a client certificate (--tls-auth-clients yes)
// takes tailgate's connections with tls.cert_file and key_file, and
// refuses them without.
func TestMutualTLS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	client := cert.Client(t)
	srv := testserver.RedisTLS(t, cert, "--tls-auth-clients", "yes")
	s := spec("rediss://"+srv.Addr, 300, time.Second, time.Second)
	s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}
	testserver.MeasureEveryOperation(t, s)

	without := spec("rediss://"+srv.Addr, 300, time.Second, time.Second)
	without.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, without)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Connect(ctx)
	require.Error(t, err, "a connection without a client certificate was taken")
	t.Logf("without a client certificate: %v", err)
}

// A URL with a user and no password (redis://TOKEN@host) names a user, as
// go-redis reads it: neither sends AUTH, so a server that asks for a
// password refuses both, and tailgate says how to write a password alone.
func TestALoneUserIsNoPasswordAsGoRedisReadsIt(t *testing.T) {
	srv := testserver.Redis(t, "--requirepass", "tok-3e9")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	opt, err := goredis.ParseURL("redis://tok-3e9@" + srv.Addr)
	require.NoError(t, err)
	client := goredis.NewClient(opt)
	defer client.Close()
	err = client.Ping(ctx).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NOAUTH", "go-redis sends no password for a lone user")

	s := spec("redis://tok-3e9@"+srv.Addr, 100, time.Second, time.Second)
	d, err := workloads.Open(ctx, s)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Connect(ctx)
	require.Error(t, err)
	assert.Equal(t, "redis NOAUTH", workloads.ErrorKind(err))
	assert.Contains(t, err.Error(), "redis://:PASSWORD@host")

	s = spec("redis://:tok-3e9@"+srv.Addr, 100, time.Second, time.Second)
	testserver.Connect(t, s) // the password alone authenticates
}
