package memcache

import (
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"math"
	"net"
	"slices"
	"strconv"
)

// ketama is the continuum of a server list: libmemcached's consistent
// hashing with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, as its
// src/libmemcached/hosts.cc (update_continuum, ketama_server_hash) and
// hash.cc (dispatch_host) build and search it, checked against the
// vectors of its test/fixtures/ketama.hpp (see ketama_test.go):
//
//   - Server i of n, of weight w_i among a total W, gets
//     floor(w_i/W × 160/4 × n + 1e-10) × 4 points, in float32 as
//     libmemcached computes it: 160 each when the weights are equal (as
//     tailgate's are), one MD5 digest giving four; 156 for the few list
//     lengths at which that float32 falls short of 40 digests.
//   - Digest k (from 0) of a server is the MD5 of "host-k" when its port
//     is memcached's default, 11211, and of "host:port-k" otherwise,
//     the host as written in the list (not resolved); its points are
//     its four 4-byte words, each read little-endian.
//   - The points are sorted by value, a tie by the server's place in the
//     list.
//   - A key's hash is the first 4 bytes of its MD5, little-endian; it
//     goes to the server of the first point at or above its hash, and to
//     the first point when none is (the ring wraps).
//
// libketama (last.fm) hashes the same points but always names the port
// ("host:port-k") and computes its 40 digests in double precision: it
// places every key as libmemcached does for a list in which no server is
// on port 11211, but for the few lengths (25, 47, 50, ...) at which
// libmemcached's float32 gives 39. spymemcached's KETAMA_HASH names its
// points by socket address ("hostname/ip:port-k") and agrees with
// neither.
type ketama struct {
	points  []uint32 // sorted
	servers []int32  // the server of each point
}

// ketamaPointsPerServer is MEMCACHED_POINTS_PER_SERVER_KETAMA.
const ketamaPointsPerServer = 160

// newKetama builds the continuum of the servers at addrs (host:port),
// of the given weights (nil: all equal).
func newKetama(addrs []string, weights []uint32) *ketama {
	var total uint64
	for i := range addrs {
		total += uint64(weightOf(weights, i))
	}
	type point struct {
		value  uint32
		server int32
	}
	var points []point
	for i, addr := range addrs {
		host, port, _ := net.SplitHostPort(addr)
		prefix := host + ":" + port + "-"
		if port == DefaultPort {
			prefix = host + "-"
		}
		// float32 throughout, each step rounded as libmemcached's C does.
		pct := float32(weightOf(weights, i)) / float32(total)
		share := float32(float32(float32(pct*ketamaPointsPerServer)/4)*float32(len(addrs))) + 1e-10
		digests := int(math.Floor(float64(share)))
		for k := range digests {
			sum := md5.Sum([]byte(prefix + strconv.Itoa(k)))
			for word := range 4 {
				points = append(points, point{binary.LittleEndian.Uint32(sum[4*word:]), int32(i)})
			}
		}
	}
	slices.SortFunc(points, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.server, b.server))
	})
	k := &ketama{points: make([]uint32, len(points)), servers: make([]int32, len(points))}
	for i, p := range points {
		k.points[i], k.servers[i] = p.value, p.server
	}
	return k
}

// weightOf is server i's weight: 1 when weights are not given.
func weightOf(weights []uint32, i int) uint32 {
	if weights == nil {
		return 1
	}
	return weights[i]
}

// keyHash is a key's place on the continuum: the first 4 bytes of its
// MD5, little-endian.
func keyHash(key []byte) uint32 {
	sum := md5.Sum(key)
	return binary.LittleEndian.Uint32(sum[:4])
}

// point is the index of the first point at or above hash, wrapping to 0.
func (k *ketama) point(hash uint32) int {
	i, _ := slices.BinarySearch(k.points, hash)
	if i == len(k.points) {
		return 0
	}
	return i
}

// server is the index in the list of the server that holds key.
func (k *ketama) server(key []byte) int {
	return int(k.servers[k.point(keyHash(key))])
}
