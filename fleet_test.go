package aiproxy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/fleet/redisfleet"
	"github.com/aiproxy/aiproxy/internal/cputime"
	"github.com/aiproxy/aiproxy/provider"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// These tests run fleets of Proxies in one process against the real Redis servers that
// scripts/services.sh starts (a missing server fails them), and against a Sentinel that
// they start in front of Redis 7.

// fleetInterval is the tests' sync interval: what a Proxy knows of the others is at most
// this old (plus a round trip).
const fleetInterval = 20 * time.Millisecond

// settle waits long enough for every Proxy of a fleet to have synced twice.
func settle() { time.Sleep(10 * fleetInterval) }

// fleetUpstream serves the targets of the tests, one path prefix per target, and counts the
// requests each receives.
type fleetUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	// hits counts requests by target name.
	hits map[string]int
	// answer, when it returns true, has answered for the target itself.
	answer func(name string, w http.ResponseWriter) bool
}

func newFleetUpstream(t *testing.T, answer func(name string, w http.ResponseWriter) bool) *fleetUpstream {
	u := &fleetUpstream{hits: map[string]int{}, answer: answer}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		name := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
		u.mu.Lock()
		u.hits[name]++
		u.mu.Unlock()
		if u.answer != nil && u.answer(name, w) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchResponse)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fleetUpstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[name]
}

// target is a target of u named name.
func (u *fleetUpstream) target(name string, weight int) aiproxy.Target {
	return aiproxy.Target{Name: name, Weight: weight, Model: provider.Model{Provider: "openai", Name: "gpt-4o",
		Options: provider.Options{UpstreamURL: u.srv.URL + "/" + name + "/v1/chat/completions"}},
		Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-test"}}
}

// newFleet returns n Proxies of cfg sharing state in Redis through conn, under a prefix of
// their own.
func newFleet(t *testing.T, n int, conn redisstore.Options, cfg aiproxy.Config) []*aiproxy.Proxy {
	t.Helper()
	prefix := "aiproxy-test:" + newNamespace()
	ps := make([]*aiproxy.Proxy, n)
	for i := range ps {
		store, err := redisfleet.New(redisfleet.Options{Redis: conn, Prefix: prefix})
		require.NoError(t, err)
		c := cfg
		c.Fleet = &aiproxy.FleetConfig{Store: store, Interval: fleetInterval, Timeout: 200 * time.Millisecond, Lease: 2 * time.Second}
		ps[i], err = aiproxy.New(c)
		require.NoError(t, err)
		t.Cleanup(func() { ps[i].Close() })
	}
	return ps
}

// fleetChat sends one chat request through p (model "" asks for no model) and returns its status.
func fleetChat(t *testing.T, p *aiproxy.Proxy, model string) int {
	t.Helper()
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	if model != "" {
		body = `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// redisConn is the connection to the server that variable names.
func redisConn(t *testing.T, variable string) redisstore.Options {
	host, port, err := net.SplitHostPort(env(t, variable))
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	return redisstore.Options{Host: host, Port: p}
}

// fleetServers are the deployments the shared-breaker test runs on.
var fleetServers = []struct {
	name string
	conn func(t *testing.T) redisstore.Options
}{
	{"redis7", func(t *testing.T) redisstore.Options { return redisConn(t, "AIPROXY_REDIS7_ADDR") }},
	{"redis8", func(t *testing.T) redisstore.Options { return redisConn(t, "AIPROXY_REDIS8_ADDR") }},
	{"sentinel", startSentinel},
}

// A target that fails on instance A is skipped by B and C: the breaker counts the fleet's
// failures, so three instances that fail once each open it at max_fails 3, which none of
// them reaches alone.
func TestFleetSharesBreaker(t *testing.T) {
	for _, srv := range fleetServers {
		t.Run(srv.name, func(t *testing.T) {
			up := newFleetUpstream(t, func(name string, w http.ResponseWriter) bool {
				if name == "bad" {
					http.Error(w, `{"error":{"message":"boom"}}`, http.StatusInternalServerError)
					return true
				}
				return false
			})
			cfg := aiproxy.Config{
				Targets: []aiproxy.Target{up.target("bad", 200), up.target("good", 100)},
				Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, MaxFails: 3, FailTimeout: time.Minute,
					FailoverCriteria: []string{"error", "timeout", "http_500", "non_idempotent"}},
			}
			fleet := newFleet(t, 3, srv.conn(t), cfg)
			for i, p := range fleet { // each fails once on bad, then is served by good
				require.Equal(t, http.StatusOK, fleetChat(t, p, ""))
				require.Equal(t, i+1, up.count("bad"), "instance %d tried bad: the breaker is not open yet", i)
				settle()
			}
			for range 5 {
				for _, p := range fleet {
					require.Equal(t, http.StatusOK, fleetChat(t, p, ""))
				}
			}
			assert.Equal(t, 3, up.count("bad"), "every instance skips bad once the fleet counted 3 failures")
			assert.Equal(t, 18, up.count("good"))
		})
	}
}

// A 429 with Retry-After seen by one instance holds the target out for all.
func TestFleetSharesRetryAfter(t *testing.T) {
	up := newFleetUpstream(t, func(name string, w http.ResponseWriter) bool {
		if name == "limited" {
			w.Header().Set("Retry-After", "60")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	cfg := aiproxy.Config{
		Targets:  []aiproxy.Target{up.target("limited", 200), up.target("spare", 100)},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "timeout", "http_429", "non_idempotent"}},
	}
	fleet := newFleet(t, 3, redisConn(t, "AIPROXY_REDIS8_ADDR"), cfg)
	require.Equal(t, http.StatusOK, fleetChat(t, fleet[0], ""))
	require.Equal(t, 1, up.count("limited"))
	settle()
	for range 5 {
		require.Equal(t, http.StatusOK, fleetChat(t, fleet[1], ""))
		require.Equal(t, http.StatusOK, fleetChat(t, fleet[2], ""))
	}
	assert.Equal(t, 1, up.count("limited"), "B and C hold the target out after A's 429")
	assert.Equal(t, 11, up.count("spare"))
}

// Least-connections balances the fleet's in-flight requests: instance A sends its 100
// requests to t1 alone (by alias) while B and C balance theirs over t1, t2 and t3; B and C
// see A's load on t1 and fill t2 and t3, so the 300 slow requests end up even. Balancing on
// its own counts, each of B and C would put a third of its requests on t1 (167 of 300).
func TestFleetLeastConnectionsSpreadsFleetLoad(t *testing.T) {
	const total = 300
	var arrived atomic.Int64
	release := make(chan struct{})
	up := newFleetUpstream(t, func(string, http.ResponseWriter) bool {
		arrived.Add(1)
		<-release
		return false
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	pinned := up.target("t1", 100)
	pinned.Model.Alias = "pinned"
	cfg := aiproxy.Config{
		Targets:  []aiproxy.Target{pinned, up.target("t2", 100), up.target("t3", 100)},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.LeastConnections},
	}
	fleet := newFleet(t, 3, redisConn(t, "AIPROXY_REDIS7_ADDR"), cfg)
	var wg sync.WaitGroup
	statuses := make(chan int, total)
	send := func(p *aiproxy.Proxy, model string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- fleetChat(t, p, model)
		}()
	}
	// A's requests come in the first two thirds, B's and C's throughout, 4 ms apart.
	for slot := range total {
		switch {
		case slot < 200 && slot%2 == 0:
			send(fleet[0], "pinned")
		case slot%4 == 1 || (slot >= 200 && slot%2 == 0):
			send(fleet[1], "")
		default:
			send(fleet[2], "")
		}
		time.Sleep(4 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return arrived.Load() == total }, 20*time.Second, 10*time.Millisecond)
	counts := map[string]int{"t1": up.count("t1"), "t2": up.count("t2"), "t3": up.count("t3")}
	close(release)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		require.Equal(t, http.StatusOK, s)
	}
	t.Logf("in flight per target: %v", counts)
	for name, n := range counts {
		assert.InDelta(t, total/3, n, total/3/10, "%s holds %d of %d requests in flight (%v)", name, n, total, counts)
	}
}

// Redis going away mid-test: requests keep succeeding on each instance's own state, the
// instance logs once, and what it observed meanwhile (a Retry-After hold) reaches the others
// when Redis is back.
func TestFleetSurvivesRedisOutage(t *testing.T) {
	var limiting atomic.Bool
	up := newFleetUpstream(t, func(name string, w http.ResponseWriter) bool {
		if name == "limited" && limiting.Load() {
			w.Header().Set("Retry-After", "60")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	relay := newRelay(t, env(t, "AIPROXY_REDIS7_ADDR"))
	host, port, _ := net.SplitHostPort(relay.Addr())
	p, _ := strconv.Atoi(port)
	logs := &lockedBuffer{}
	cfg := aiproxy.Config{
		Targets:  []aiproxy.Target{up.target("limited", 200), up.target("spare", 100)},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "timeout", "http_429", "non_idempotent"}},
		Logger:   logs.logger(),
	}
	fleet := newFleet(t, 2, redisstore.Options{Host: host, Port: p, ConnectTimeout: 500}, cfg)
	require.Equal(t, http.StatusOK, fleetChat(t, fleet[1], "")) // B, served by limited
	settle()

	relay.Cut()
	settle()
	limiting.Store(true)
	start := time.Now()
	for range 20 { // A: limited answers 429 once, then A holds it out; spare serves
		require.Equal(t, http.StatusOK, fleetChat(t, fleet[0], ""))
	}
	// A request that waited for Redis would wait at least its 500 ms connect timeout: 10 s for
	// the 20; a busy machine serves them in well under half that.
	assert.Less(t, time.Since(start), 5*time.Second, "requests do not wait for Redis")
	require.Equal(t, 2, up.count("limited"))
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "fleet state unavailable") == 2 },
		5*time.Second, fleetInterval, "each instance logs the outage:\n%s", logs)
	time.Sleep(20 * fleetInterval) // many failed syncs
	assert.Equal(t, 2, strings.Count(logs.String(), "fleet state unavailable"), "each instance logs the outage once:\n%s", logs)

	relay.Restore()
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "fleet state is back") == 2 },
		5*time.Second, fleetInterval, "each instance logs the recovery:\n%s", logs)
	settle()
	for range 5 {
		require.Equal(t, http.StatusOK, fleetChat(t, fleet[1], ""))
	}
	assert.Equal(t, 2, up.count("limited"), "B learned A's hold from the outage once Redis was back")
}

// startSentinel starts a Sentinel (the redis-server binary that serves
// AIPROXY_REDIS7_ADDR, in sentinel mode) that watches that server under a master name of its
// own, and returns the options that connect through it.
func startSentinel(t *testing.T) redisstore.Options {
	addr := env(t, "AIPROXY_REDIS7_ADDR")
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "server").Result()
	require.NoError(t, err)
	var exe string
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "executable:"); ok {
			exe = v
		}
	}
	require.NotEmpty(t, exe, "Redis 7 does not say where its executable is")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	host, redisPort, _ := net.SplitHostPort(addr)
	master := "aiproxy-test-" + newNamespace()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil,
		"port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 60000\n",
		port, dir, master, host, redisPort, master), 0o600))
	cmd := exec.Command(exe, conf, "--sentinel")
	libs, _ := filepath.Glob(filepath.Join(filepath.Dir(exe), "..", "lib", "*-linux-gnu*"))
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+strings.Join(libs, ":"))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := redis.NewSentinelClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	defer s.Close()
	require.Eventually(t, func() bool {
		a, err := s.GetMasterAddrByName(context.Background(), master).Result()
		return err == nil && len(a) == 2
	}, 10*time.Second, 50*time.Millisecond, "the Sentinel did not come up: %s", out)
	return redisstore.Options{SentinelMaster: master, SentinelNodes: []redisstore.SentinelNode{{Host: "127.0.0.1", Port: port}}}
}

// Lowest-usage and lowest-latency read the fleet's measurements: B balances on what A
// measured, before it has measured anything itself.
func TestFleetSharesMeasurements(t *testing.T) {
	up := newFleetUpstream(t, func(name string, w http.ResponseWriter) bool {
		if name == "slow" {
			time.Sleep(50 * time.Millisecond)
		}
		return false
	})
	slow, fast := up.target("slow", 100), up.target("fast", 100)
	slow.Model.Name, fast.Model.Name = "m-slow", "m-fast" // A asks for each by name
	for _, algorithm := range []string{aiproxy.LowestUsage, aiproxy.LowestLatency} {
		t.Run(algorithm, func(t *testing.T) {
			before := map[string]int{"slow": up.count("slow"), "fast": up.count("fast")}
			cfg := aiproxy.Config{Targets: []aiproxy.Target{slow, fast}, Balancer: aiproxy.BalancerConfig{Algorithm: algorithm}}
			fleet := newFleet(t, 2, redisConn(t, "AIPROXY_REDIS8_ADDR"), cfg)
			for range 4 { // A: slow serves 4 requests (usage 4 × 247 tokens, 50 ms each), fast 1
				require.Equal(t, http.StatusOK, fleetChat(t, fleet[0], "m-slow"))
			}
			require.Equal(t, http.StatusOK, fleetChat(t, fleet[0], "m-fast"))
			settle()
			for range 3 { // B, no model: the target A measured as cheaper or faster
				require.Equal(t, http.StatusOK, fleetChat(t, fleet[1], ""))
			}
			assert.Equal(t, 4, up.count("slow")-before["slow"], "B sent nothing to the target A measured as busier or slower")
			assert.Equal(t, 4, up.count("fast")-before["fast"])
		})
	}
}

// commandCounter counts the commands a Redis client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// BenchmarkOverheadFleet is BenchmarkOverheadInMemory's proxy (least-connections over two
// targets) with shared state off and in Redis 7 (default sync interval), at 1 and 64
// concurrent requests; it reports the Redis commands sent per request. Run:
//
//	go test -run '^$' -bench 'OverheadFleet' -benchmem -count 6 . | benchstat -col /fleet -
func BenchmarkOverheadFleet(b *testing.B) {
	for _, shared := range []bool{false, true} {
		for _, conns := range []int{1, 64} {
			name := fmt.Sprintf("fleet=off/conns=%d", conns)
			if shared {
				name = fmt.Sprintf("fleet=redis/conns=%d", conns)
			}
			b.Run(name, func(b *testing.B) {
				logs := &lockedBuffer{}
				cfg := aiproxy.Config{Transport: memoryUpstream{}, Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.LeastConnections},
					Logger: logs.logger()}
				for _, n := range []string{"a", "b"} {
					cfg.Targets = append(cfg.Targets, aiproxy.Target{Name: n, Model: provider.Model{Provider: "openai", Name: "gpt-4o",
						Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
						Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-bench"}})
				}
				counter := &commandCounter{}
				if shared {
					client := redis.NewClient(&redis.Options{Addr: os.Getenv("AIPROXY_REDIS7_ADDR")})
					if client.Options().Addr == "" {
						b.Fatal("AIPROXY_REDIS7_ADDR is not set: run after `. scripts/services.sh`")
					}
					client.AddHook(counter)
					b.Cleanup(func() { client.Close() })
					store, err := redisfleet.New(redisfleet.Options{Redis: redisstore.Options{Client: client}, Prefix: "aiproxy-bench:" + newNamespace()})
					if err != nil {
						b.Fatal(err)
					}
					cfg.Fleet = &aiproxy.FleetConfig{Store: store}
				}
				p, err := aiproxy.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { p.Close() })
				request := func() {
					req, _ := http.NewRequest(http.MethodPost, "http://upstream/v1/chat/completions", strings.NewReader(string(benchRequest)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := p.RoundTrip(req)
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Error(err, resp)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				b.ReportAllocs()
				start, cmds := cputime.Process(), counter.n.Load()
				if conns == 1 {
					for b.Loop() {
						request()
					}
				} else {
					b.SetParallelism((conns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							request()
						}
					})
				}
				b.ReportMetric(float64(counter.n.Load()-cmds)/float64(b.N), "redis-cmds/op")
				b.ReportMetric(float64(strings.Count(logs.String(), "fleet state unavailable")), "outages")
				if cpu := cputime.Process() - start; cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
