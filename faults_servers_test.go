package aiproxy_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vault"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// manualClock is a clock that moves only when the test advances it: the proxy's Config.Now
// (the semantic balancer's retry after a failed start) and a vault.Clock.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock { return &manualClock{now: time.Unix(1_700_000_000, 0)} }

// Now returns the clock's time.
func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives when the clock has been advanced by d.
func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock on by d and fires the After channels that are due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	waiting := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			waiting = append(waiting, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = waiting
}

// tally counts a scenario's responses by status, and the lost ones: errors although a
// healthy target could have served the request.
type tally struct {
	requests, lost int
	statuses       map[int]int
}

func (t *tally) add(status int, healthy bool) {
	if t.statuses == nil {
		t.statuses = map[int]int{}
	}
	t.requests++
	t.statuses[status]++
	if status >= 400 && healthy {
		t.lost++
	}
}

// String is the scenario's line of the suite's table: requests, lost, statuses seen.
func (t *tally) String() string {
	codes := make([]int, 0, len(t.statuses))
	for c := range t.statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var seen []string
	for _, c := range codes {
		seen = append(seen, fmt.Sprintf("%d×%d", t.statuses[c], c))
	}
	return fmt.Sprintf("requests %d, lost %d, statuses %s", t.requests, t.lost, strings.Join(seen, " "))
}

// dependencyFault is a row of the semantic balancer's fault suite: a real dependency (a remote
// embeddings API, or Redis as the vector store) behind a relay that the row makes faulty.
type dependencyFault struct {
	name   string
	faulty string // "embedder" (an OpenAI-format embeddings API) or "redis7", "redis8" (the vector store)
	fault  func(*relay)
	// running: the fault starts after requests were routed by meaning; otherwise before the
	// first request, so the balancer cannot start (embed and store the descriptions).
	running  bool
	catchall bool // a CATCHALL target is configured
	// degraded: requests under the fault go to CATCHALL (or, without one, fail with 502
	// semantic_routing_failed); otherwise the fault is within the timeouts and they are still
	// routed by meaning.
	degraded bool
}

// The timeouts of the dependency fault suite: the upstreams' (which bound an embedding to
// their sum) and Redis's.
const (
	depTimeout      = 250 * time.Millisecond
	redisTimeoutMS  = 250
	faultRequests   = 6
	beyondTimeouts  = 3 * time.Second
	withinTimeouts  = 40 * time.Millisecond
	semanticRestart = 6 * time.Second // more than the balancer's hold-off after a failure (5 s)
)

func dependencyFaults() []dependencyFault {
	cut := (*relay).Cut
	slow := func(d time.Duration) func(*relay) { return func(r *relay) { r.Slow(d) } }
	return []dependencyFault{
		{name: "embedder down at start", faulty: "embedder", fault: cut, catchall: true, degraded: true},
		{name: "embedder down at start, no CATCHALL", faulty: "embedder", fault: cut, degraded: true},
		{name: "embedder down while running", faulty: "embedder", fault: cut, running: true, catchall: true, degraded: true},
		{name: "embedder stalled while running", faulty: "embedder", fault: slow(beyondTimeouts), running: true, catchall: true, degraded: true},
		{name: "embedder stalled at start, no CATCHALL", faulty: "embedder", fault: slow(beyondTimeouts), degraded: true},
		{name: "embedder slow within timeouts", faulty: "embedder", fault: slow(withinTimeouts), running: true, catchall: true},
		{name: "Redis 7 down at start", faulty: "redis7", fault: cut, catchall: true, degraded: true},
		{name: "Redis 7 down while running", faulty: "redis7", fault: cut, running: true, catchall: true, degraded: true},
		{name: "Redis 7 slow beyond read_timeout", faulty: "redis7", fault: slow(beyondTimeouts), running: true, catchall: true, degraded: true},
		{name: "Redis 8 down while running", faulty: "redis8", fault: cut, running: true, catchall: true, degraded: true},
		{name: "Redis 8 down while running, no CATCHALL", faulty: "redis8", fault: cut, running: true, degraded: true},
		{name: "Redis 8 slow beyond read_timeout", faulty: "redis8", fault: slow(beyondTimeouts), running: true, catchall: true, degraded: true},
		{name: "Redis 8 slow within read_timeout", faulty: "redis8", fault: slow(withinTimeouts), running: true, catchall: true},
	}
}

// TestSemanticDependencyFaults: when the semantic balancer's embedder or vector store is down
// or slow, no request is lost: each goes to the CATCHALL target (or, without one, gets a 502
// that says semantic routing failed and shows no socket address), a prompt embedded before
// the outage is still routed by meaning, a failure holds the dependency off (5 s) so that the
// requests after it do not each wait for its timeouts, and routing by meaning resumes once the dependency
// is back.
func TestSemanticDependencyFaults(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, sc := range dependencyFaults() {
		t.Run(sc.name, func(t *testing.T) { runDependencyFault(t, sc) })
	}
}

func runDependencyFault(t *testing.T, sc dependencyFault) {
	descs := []string{"cooking recipes baking", "astronomy planets stars"}
	if sc.catchall {
		descs = append(descs, aiproxy.Catchall)
	}
	cfg, _ := semanticConfig(t, 0.5, descs...)
	clock := newManualClock()
	cfg.Now = clock.Now
	cfg.Balancer.ConnectTimeout, cfg.Balancer.WriteTimeout, cfg.Balancer.ReadTimeout = depTimeout, depTimeout, depTimeout
	var dep *relay
	switch sc.faulty {
	case "embedder":
		api := aiproxytest.NewOpenAI()
		t.Cleanup(api.Close)
		api.Embed = func(inputs []string, _ int) [][]float32 {
			vecs := make([][]float32, len(inputs))
			for i, in := range inputs {
				vecs[i] = aiproxytest.BagOfWords(in, 256)
			}
			return vecs
		}
		dep = newRelay(t, strings.TrimPrefix(api.URL, "http://"))
		cfg.Embedder = nil
		cfg.Embeddings = &aiproxy.EmbeddingsConfig{Model: aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small",
			Options: provider.Options{UpstreamURL: "http://" + dep.Addr() + "/v1/embeddings"}}}
	case "redis7", "redis8":
		variable := map[string]string{"redis7": "AIPROXY_REDIS7_ADDR", "redis8": "AIPROXY_REDIS8_ADDR"}[sc.faulty]
		addr := env(t, variable)
		dep = newRelay(t, addr)
		ns := "aiproxy-test:" + newNamespace()
		cfg.VectorDB.Strategy = "redis"
		cfg.VectorDB.Store = &redisstore.Options{Host: "127.0.0.1", Port: dep.Port(), Namespace: ns,
			ConnectTimeout: redisTimeoutMS, SendTimeout: redisTimeoutMS, ReadTimeout: redisTimeoutMS}
		t.Cleanup(func() { deleteKeys(t, addr, ns+":*") })
	}
	p := newSeedProxy(t, cfg)
	var tl tally

	// ask sends prompt and checks the answer: by meaning (want is the model of the matching
	// description), or, degraded, by the CATCHALL target or a 502 without one.
	ask := func(prompt, want string, degraded bool) {
		t.Helper()
		rec, model := chat(t, p, prompt)
		tl.add(rec.Code, sc.catchall || !degraded)
		switch {
		case !degraded:
			require.Equal(t, http.StatusOK, rec.Code, "%s: %s", prompt, rec.Body)
			assert.Equal(t, want, model, prompt)
			assert.Equal(t, "true", rec.Header().Get(aiproxy.HeaderSemanticMatched), prompt)
		case sc.catchall:
			require.Equal(t, http.StatusOK, rec.Code, "%s: %s", prompt, rec.Body)
			assert.Equal(t, aiproxy.Catchall, model, prompt)
			assert.Equal(t, "false", rec.Header().Get(aiproxy.HeaderSemanticMatched), prompt)
		default:
			require.Equal(t, http.StatusBadGateway, rec.Code, "%s: %s", prompt, rec.Body)
			e := openAIError(t, rec.Body.Bytes())
			assert.Equal(t, "semantic_routing_failed", e.Code)
			assert.Contains(t, e.Message, "semantic routing failed")
			assert.NotContains(t, e.Message, dep.Addr(), "the error names no socket address")
		}
	}
	// fresh is a prompt not embedded before, routed by meaning to model when nothing fails.
	seq := 0
	fresh := func() (string, string) {
		seq++
		if seq%2 == 0 {
			return fmt.Sprintf("baking recipes number%d", seq), "cooking"
		}
		return fmt.Sprintf("planets stars number%d", seq), "astronomy"
	}

	if sc.running {
		ask("baking recipes", "cooking", false)
		ask("planets stars", "astronomy", false)
	}
	sc.fault(dep)
	dialed := 0
	for i := range faultRequests {
		prompt, model := fresh()
		ask(prompt, model, sc.degraded)
		if i == 0 {
			dialed = dep.Dialed()
		}
	}
	if sc.running && sc.degraded {
		assert.Equal(t, dialed, dep.Dialed(), "after a failure, the dependency is held off: no request waits for it")
	}
	if sc.running && sc.faulty == "embedder" {
		ask("baking recipes", "cooking", false) // embedded before the outage: the cache still routes it
	}
	dep.Restore()
	clock.Advance(semanticRestart) // past the hold-off after a failure
	for range 2 {
		prompt, model := fresh()
		ask(prompt, model, false)
	}
	t.Logf("%s: %s", sc.name, &tl)
}

// deleteKeys deletes the keys matching pattern from the Redis at addr.
func deleteKeys(t *testing.T, addr, pattern string) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	keys, err := c.Keys(ctx, pattern).Result()
	if err != nil {
		t.Errorf("listing %s: %v", pattern, err)
		return
	}
	if len(keys) > 0 {
		assert.NoError(t, c.Del(ctx, keys...).Err())
	}
}

// TestVaultFaults: a target's key is a reference into the real Vault (KV v2), read through a
// relay. After the first resolution Vault goes down or stalls: requests keep succeeding with
// the cached key within ttl and, stale, within resurrect_ttl; past both they fail with a 502
// that names the reference, neither the key nor Vault's address; once Vault is back they succeed
// again. The clock is the test's.
func TestVaultFaults(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, sc := range []struct {
		name  string
		fault func(*relay)
	}{
		{"Vault down", (*relay).Cut},
		{"Vault stalled", func(r *relay) { r.Slow(beyondTimeouts) }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			vaultURL, err := url.Parse(requireEnv(t, "VAULT_ADDR"))
			require.NoError(t, err)
			dep := newRelay(t, vaultURL.Host)
			path := "aiproxy-test/faults-" + randHex(4)
			key := "sk-vault-" + randHex(12)
			writeVault(t, path, map[string]any{"key": "Bearer " + key})

			clock := newManualClock()
			resurrect := vault.Seconds(300)
			resolver, err := vault.New(vault.Config{Address: "http://" + dep.Addr(), Token: secret.Secret(requireEnv(t, "VAULT_TOKEN")),
				Mount: "secret", KV: "v2", TTL: 60, ResurrectTTL: &resurrect, Clock: clock, Timeout: depTimeout, MaxRetries: -1})
			require.NoError(t, err)
			t.Cleanup(func() { resolver.Close() })
			up := aiproxytest.NewOpenAI()
			t.Cleanup(up.Close)
			up.APIKey = key
			ref := "{vault://hcv/" + path + "/key}"
			p := newSeedProxy(t, aiproxy.Config{Now: clock.Now, Vaults: map[string]secret.Resolver{"hcv": resolver},
				Logger: slog.New(slog.DiscardHandler), Targets: []aiproxy.Target{{
					Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}},
					Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: aiproxy.Secret(ref)},
				}}})

			var tl tally
			// phase sends n requests at the clock's time start+at; with served they must be
			// answered with the key from Vault, otherwise with a 502 that says Vault could not
			// be reached.
			start := clock.Now()
			phase := func(what string, at time.Duration, n int, served bool) {
				t.Helper()
				clock.Advance(start.Add(at).Sub(clock.Now()))
				for i := range n {
					rec, _ := chat(t, p, "hi")
					tl.add(rec.Code, served)
					if served {
						require.Equal(t, http.StatusOK, rec.Code, "%s, request %d: %s", what, i, rec.Body)
						continue
					}
					require.Equal(t, http.StatusBadGateway, rec.Code, "%s, request %d: %s", what, i, rec.Body)
					e := openAIError(t, rec.Body.Bytes())
					assert.Equal(t, "upstream_failed", e.Code, what)
					assert.Contains(t, e.Message, "resolving "+ref+": ", "%s: the error names the reference", what)
					assert.NotContains(t, e.Message, key, what)
					assert.NotContains(t, e.Message, dep.Addr(), "%s: the error names no socket address", what)
				}
			}
			phase("the first resolution", 0, 1, true)
			sc.fault(dep)
			phase("within ttl", 30*time.Second, 5, true)
			phase("stale, within resurrect_ttl", 120*time.Second, 10, true)
			phase("stale, near the end of resurrect_ttl", 355*time.Second, 5, true)
			phase("past ttl + resurrect_ttl", 400*time.Second, 3, false)
			dep.Restore()
			phase("Vault back", 401*time.Second, 2, true)
			for _, r := range up.Requests() {
				assert.Equal(t, "Bearer "+key, r.Header.Get("Authorization"))
			}
			t.Logf("%s: %s", sc.name, &tl)
		})
	}
}

// writeVault writes data at secret/<path> (KV v2) in the real Vault, as putVault does, and
// closes the connection it used.
func writeVault(t *testing.T, path string, data map[string]any) {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = requireEnv(t, "VAULT_ADDR")
	defer cfg.HttpClient.CloseIdleConnections()
	c, err := api.NewClient(cfg)
	require.NoError(t, err)
	c.SetToken(requireEnv(t, "VAULT_TOKEN"))
	_, err = c.KVv2("secret").Put(context.Background(), path, data)
	require.NoError(t, err)
}
