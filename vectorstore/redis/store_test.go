package redisstore_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aiproxy/aiproxy/vectorstore"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
	"github.com/aiproxy/aiproxy/vectorstore/vectortest"
)

// servers are the real Redis servers the tests run against; scripts/services.sh starts them.
var servers = []struct {
	name, env  string
	vectorSets bool
}{
	{"redis7", "AIPROXY_REDIS7_ADDR", false},
	{"redis8", "AIPROXY_REDIS8_ADDR", true},
}

// addr returns the server's host and port from env, failing (never skipping) when unset.
func addr(tb testing.TB, env string) (string, int) {
	tb.Helper()
	a := os.Getenv(env)
	if a == "" {
		tb.Fatalf("%s is not set: run the tests with ./scripts/test.sh, which starts Redis 7 and Redis 8 and sets it", env)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		tb.Fatalf("%s=%q: %v", env, a, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatalf("%s=%q: %v", env, a, err)
	}
	return host, p
}

var seq atomic.Int64

// namespace is unique to this test and run, so that runs and parallel packages never collide.
func namespace(tb testing.TB) string {
	name := strings.NewReplacer("/", ".", " ", "_").Replace(tb.Name())
	return fmt.Sprintf("aiproxy-test:%s:%d.%d", name, time.Now().UnixNano(), seq.Add(1))
}

// open opens a store in namespace ns and removes the namespace's key when the test ends.
func open(tb testing.TB, env string, opts redisstore.Options) *redisstore.Store {
	tb.Helper()
	opts.Host, opts.Port = addr(tb, env)
	s, err := redisstore.New(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: os.Getenv(env)})
		defer c.Close()
		if err := c.Del(context.Background(), s.Key()).Err(); err != nil {
			tb.Errorf("cleanup: DEL %s: %v", s.Key(), err)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	for _, srv := range servers {
		modes := []redisstore.Mode{redisstore.ModeAuto}
		if srv.vectorSets {
			modes = append(modes, redisstore.ModeHash) // the hash also works on Redis 8
		}
		for _, mode := range modes {
			t.Run(srv.name+"/"+cmp.Or(string(mode), "auto"), func(t *testing.T) {
				vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
					s := open(t, srv.env, redisstore.Options{
						Namespace: namespace(t), Dimensions: dims, Metric: metric, Mode: mode,
					})
					wantSets := srv.vectorSets && mode == redisstore.ModeAuto && metric == vectorstore.Cosine
					if s.VectorSets() != wantSets {
						t.Fatalf("VectorSets() = %v, want %v", s.VectorSets(), wantSets)
					}
					return s
				})
			})
		}
	}
}

func TestReplicasShareVectors(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			vectortest.Replicas(t, func(t *testing.T, metric vectorstore.Metric, dims int) (a, b vectorstore.Store) {
				opts := redisstore.Options{Namespace: namespace(t), Dimensions: dims, Metric: metric}
				return open(t, srv.env, opts), open(t, srv.env, opts)
			})
		})
	}
}

func TestApproximateVectorSet(t *testing.T) {
	// HNSW search (no TRUTH) on a handful of vectors still finds them all.
	vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
		if metric != vectorstore.Cosine {
			return vectorstore.NewMemory(metric, dims) // Vector Sets are cosine only
		}
		s := open(t, "AIPROXY_REDIS8_ADDR", redisstore.Options{
			Namespace: namespace(t), Dimensions: dims, Mode: redisstore.ModeVectorSet, Approximate: true,
		})
		return s
	})
}

func TestModeVectorSetNeedsRedis8(t *testing.T) {
	host, port := addr(t, "AIPROXY_REDIS7_ADDR")
	_, err := redisstore.New(context.Background(), redisstore.Options{
		Host: host, Port: port, Dimensions: 4, Mode: redisstore.ModeVectorSet, Namespace: namespace(t),
	})
	if err == nil {
		t.Fatal("New(mode vectorset) on Redis 7 succeeded, want an error")
	}
}

func TestExistingClient(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: os.Getenv("AIPROXY_REDIS8_ADDR")})
	addr(t, "AIPROXY_REDIS8_ADDR")
	defer c.Close()
	ctx := context.Background()
	s, err := redisstore.New(ctx, redisstore.Options{Client: c, Dimensions: 2, Namespace: namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Del(ctx, s.Key())
	if err := s.Upsert(ctx, vectorstore.Vector{ID: "x", Values: []float32{1, 0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the caller's client was closed by Store.Close: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	_, err = redisstore.New(context.Background(), redisstore.Options{
		Host: "127.0.0.1", Port: port, Dimensions: 4, ConnectTimeout: 200,
	})
	if err == nil {
		t.Fatal("New against a closed port succeeded")
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, opts := range []redisstore.Options{
		{},
		{Dimensions: -1},
		{Dimensions: 4, Metric: "manhattan"},
		{Dimensions: 4, Mode: "lucene"},
		{Dimensions: 4, Metric: vectorstore.Euclidean, Mode: redisstore.ModeVectorSet},
		{Dimensions: 4, SentinelMaster: "mymaster"},
		{Dimensions: 4, SentinelNodes: []redisstore.SentinelNode{{Host: "127.0.0.1"}}},
		{Dimensions: 4, SentinelMaster: "m", SentinelNodes: []redisstore.SentinelNode{{Host: "h"}}, SentinelRole: "boss"},
		{Dimensions: 4, ClusterNodes: []redisstore.ClusterNode{{IP: "127.0.0.1"}}, Database: 2},
		{Dimensions: 4, CloudAuthentication: &redisstore.CloudAuthentication{AuthProvider: "aws"}}, // no user, cache or region
		{Dimensions: 4, CloudAuthentication: &redisstore.CloudAuthentication{AuthProvider: "ibm"}},
		{Dimensions: 4, CloudAuthentication: &redisstore.CloudAuthentication{AuthProvider: "azure"}}, // no username
		{Dimensions: 4, CloudAuthentication: &redisstore.CloudAuthentication{AuthProvider: "gcp", GCPServiceAccountJSON: "{}"}},
	} {
		if s, err := redisstore.New(context.Background(), opts); err == nil {
			s.Close()
			t.Errorf("New(%+v) succeeded, want an error", opts)
		}
	}
}

// A vectordb.redis block as Kong's Admin API exports it: the deprecated timeout, and a
// cloud_authentication block of nulls.
func TestKongExportedOptions(t *testing.T) {
	var opts redisstore.Options
	err := json.Unmarshal([]byte(`{"timeout":500,"cloud_authentication":{"auth_provider":null,"aws_region":null,
		"aws_cache_name":null,"aws_is_serverless":true,"azure_client_secret":null,"gcp_service_account_json":null}}`), &opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Dimensions, opts.Namespace = 4, namespace(t)
	s := open(t, servers[0].env, opts)
	if err := s.Upsert(context.Background(), vectorstore.Vector{ID: "a", Values: []float32{1, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, srv := range servers {
		for _, metric := range vectortest.Metrics {
			b.Run(srv.name+"/"+string(metric), func(b *testing.B) {
				s := open(b, srv.env, redisstore.Options{Namespace: namespace(b), Dimensions: 1536, Metric: metric})
				vectortest.Benchmark(b, s, metric, 16, 1536)
			})
		}
	}
}
