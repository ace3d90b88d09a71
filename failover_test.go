package aiproxy

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

const hello = `{"messages":[{"role":"user","content":"How do I reverse a list in Python?"}]}`

func servedModel(t *testing.T, body []byte) string {
	t.Helper()
	var c provider.ChatCompletion
	require.NoError(t, json.Unmarshal(body, &c), string(body))
	return c.Model
}

// closedURL returns a URL on which nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1/chat/completions"
}

func TestFailoverByWeight(t *testing.T) {
	// Seed 002: two targets share a description, weights 75 (gpt-4o) and 25 (gpt-4o-mini);
	// retries 3; failover_criteria error, timeout, http_429, http_503, non_idempotent.
	big, small := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer big.Close()
	defer small.Close()
	t75, t25 := openaiTarget(big, "gpt-4o"), openaiTarget(small, "gpt-4o-mini")
	t75.Weight, t25.Weight = 75, 25
	var stats []Stats
	p := newProxy(t, Config{
		Targets:  []Target{t75, t25},
		Balancer: BalancerConfig{Retries: 3, FailoverCriteria: []string{"error", "timeout", "http_429", "http_503", "non_idempotent"}},
		Hooks:    onStats(func(s Stats) { stats = append(stats, s) }),
	})
	big.Fail(http.StatusServiceUnavailable, 1, "")
	rec := post(t, p, hello)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Equal(t, "gpt-4o-mini", servedModel(t, rec.Body.Bytes()))
	assert.Equal(t, "openai/gpt-4o-mini", rec.Header().Get("X-Kong-LLM-Model"))
	require.Len(t, big.Requests(), 1, "the weight-75 target is tried first")
	require.Len(t, small.Requests(), 1)
	assert.JSONEq(t, string(big.Requests()[0].Body), strings.Replace(string(small.Requests()[0].Body), "gpt-4o-mini", "gpt-4o", 1),
		"the same body is replayed on the next target")
	require.Len(t, stats, 1)
	require.Len(t, stats[0].Attempts, 1)
	assert.Equal(t, Attempt{Target: "openai/gpt-4o", Status: 503, Err: stats[0].Attempts[0].Err}, stats[0].Attempts[0])
	assert.Equal(t, "openai/gpt-4o-mini", stats[0].Target)
}

func TestNonIdempotent(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	ta, tb := openaiTarget(a, "gpt-4o"), openaiTarget(b, "gpt-4o-mini")
	ta.Weight, tb.Weight = 2, 1
	// Without non_idempotent, a POST that reached the upstream is not retried: the 503 is
	// the answer, translated.
	p := newProxy(t, Config{Targets: []Target{ta, tb}, Balancer: BalancerConfig{FailoverCriteria: []string{"error", "timeout", "http_503"}}})
	a.Fail(503, 1, "")
	rec := post(t, p, hello)
	assert.Equal(t, 503, rec.Code)
	msg, typ, _ := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "The engine is currently overloaded, please try again later.", msg)
	assert.Equal(t, "server_error", typ)
	assert.Empty(t, b.Requests())

	// A connection that never reached the upstream is retried under "error" alone.
	tc := openaiTarget(a, "gpt-4o")
	tc.Model.Options.UpstreamURL = closedURL(t)
	tc.Weight = 2
	p = newProxy(t, Config{Targets: []Target{tc, tb}})
	rec = post(t, p, hello)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Equal(t, "gpt-4o-mini", servedModel(t, rec.Body.Bytes()))
}

func TestErrorsNotInCriteriaAreReturned(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	ta, tb := openaiTarget(a, "gpt-4o"), openaiTarget(b, "gpt-4o-mini")
	ta.Weight = 200
	p := newProxy(t, Config{Targets: []Target{ta, tb}, Balancer: BalancerConfig{FailoverCriteria: []string{"http_503", "non_idempotent"}}})
	a.Fail(400, 1, "")
	rec := post(t, p, hello)
	assert.Equal(t, 400, rec.Code, "a client error is never failed over")
	msg, _, _ := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "Invalid request.", msg)
	assert.Equal(t, "openai/gpt-4o", rec.Header().Get("X-Kong-LLM-Model"))
	assert.Empty(t, b.Requests())
}

func TestAllAttemptsFail(t *testing.T) {
	ups := []*aiproxytest.OpenAI{aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()}
	var targets []Target
	for i, u := range ups {
		defer u.Close()
		u.APIKey = "sk-secret-upstream"
		tg := openaiTarget(u, []string{"m0", "m1", "m2"}[i])
		targets = append(targets, tg)
		u.Fail(502, 1, "")
	}
	crit := []string{"error", "timeout", "http_502", "http_503", "non_idempotent"}
	p := newProxy(t, Config{Targets: targets, Balancer: BalancerConfig{Retries: 10, FailoverCriteria: crit}})
	rec := post(t, p, hello)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	msg, typ, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "server_error", typ)
	assert.Equal(t, "upstream_failed", code)
	assert.Contains(t, msg, "all 3 attempts failed")
	for _, name := range []string{"openai/m0", "openai/m1", "openai/m2"} {
		assert.Contains(t, msg, name)
	}
	assert.NotContains(t, rec.Body.String(), "sk-secret-upstream")
	for _, u := range ups {
		assert.Len(t, u.Requests(), 1, "a request never tries the same target twice")
	}

	// retries bounds the attempts: 1 + retries; the last failure's status decides.
	for _, u := range ups {
		u.Fail(503, 1, "")
	}
	p = newProxy(t, Config{Targets: targets, Balancer: BalancerConfig{Retries: 1, FailoverCriteria: crit}})
	rec = post(t, p, hello)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	msg, _, _ = openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "all 2 attempts failed")

	// No retries at all (Kong's retries: 0).
	ups[0].Fail(503, 1, "")
	ups[1].Fail(503, 1, "")
	ups[2].Fail(503, 1, "")
	p = newProxy(t, Config{Targets: targets, Balancer: BalancerConfig{Retries: -1, FailoverCriteria: crit}})
	rec = post(t, p, hello)
	msg, _, _ = openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "all 1 attempts failed")
}

func TestTimeout(t *testing.T) {
	slow, fast := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer slow.Close()
	defer fast.Close()
	ts, tf := openaiTarget(slow, "slow"), openaiTarget(fast, "fast")
	ts.Weight = 200
	slow.Stall(1, 2*time.Second)
	p := newProxy(t, Config{Targets: []Target{ts, tf}, Balancer: BalancerConfig{
		ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond, FailoverCriteria: []string{"timeout", "non_idempotent"}}})
	start := time.Now()
	rec := post(t, p, hello)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Equal(t, "fast", servedModel(t, rec.Body.Bytes()))
	assert.Less(t, time.Since(start), time.Second)

	// The last attempt timing out is a 504.
	slow.Stall(1, 2*time.Second)
	p = newProxy(t, Config{Targets: []Target{ts}, Balancer: BalancerConfig{ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond}})
	rec = post(t, p, hello)
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
}

func TestCircuitBreaker(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	ta, tb := openaiTarget(a, "a"), openaiTarget(b, "b")
	now := time.Unix(1000, 0)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	p := newProxy(t, Config{
		Targets: []Target{ta, tb},
		Balancer: BalancerConfig{MaxFails: 2, FailTimeout: 10 * time.Second, Retries: -1,
			FailoverCriteria: []string{"http_500", "non_idempotent"}},
		Now: func() time.Time { return *clock.Load() },
	})
	a.Fail(500, 2, "")
	for range 4 { // round-robin: a, b, a, b; a fails twice and opens
		post(t, p, hello)
	}
	require.Len(t, a.Requests(), 2)
	for range 4 {
		rec := post(t, p, hello)
		assert.Equal(t, 200, rec.Code)
	}
	assert.Len(t, a.Requests(), 2, "an open target gets no traffic")
	later := now.Add(11 * time.Second)
	clock.Store(&later)
	for range 2 {
		post(t, p, hello)
	}
	assert.Len(t, a.Requests(), 3, "after fail_timeout the target is tried again")

	// With every target open, the request is refused with 503.
	c := aiproxytest.NewOpenAI()
	defer c.Close()
	c.Fail(500, 2, "")
	p = newProxy(t, Config{Targets: []Target{openaiTarget(c, "c")}, Now: func() time.Time { return now },
		Balancer: BalancerConfig{MaxFails: 2, FailoverCriteria: []string{"http_500", "non_idempotent"}}})
	post(t, p, hello)
	post(t, p, hello)
	rec := post(t, p, hello)
	assert.Equal(t, 503, rec.Code)
	_, _, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "no_target", code)
	assert.Len(t, c.Requests(), 2)
}

// clockedPair is a proxy over two OpenAI fakes, a and b, balanced by bal, whose clock reads *now.
func clockedPair(t *testing.T, bal BalancerConfig) (a, b *aiproxytest.OpenAI, p *Proxy, now *time.Time) {
	a, b = aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	now = new(time.Time)
	*now = time.Unix(1000, 0)
	p = newProxy(t, Config{Targets: []Target{openaiTarget(a, "a"), openaiTarget(b, "b")}, Balancer: bal,
		Now: func() time.Time { return *now }})
	return a, b, p, now
}

func TestRetryAfterHoldsTarget(t *testing.T) {
	a, _, p, _ := clockedPair(t, BalancerConfig{FailoverCriteria: []string{"http_429", "non_idempotent"}})
	a.Fail(429, 1, "30")
	rec := post(t, p, hello) // a: 429 → b
	require.Equal(t, 200, rec.Code)
	for range 4 {
		post(t, p, hello)
	}
	assert.Len(t, a.Requests(), 1, "a 429 with Retry-After keeps the target out until then")
}

// TestRateLimitedEverywhere: when every target refused with a 429 the client gets a 429,
// as it would from OpenAI, with the Retry-After of the first to come back; while they are
// held out, and when another target failed otherwise, the answer is a 503.
func TestRateLimitedEverywhere(t *testing.T) {
	a, b, p, now := clockedPair(t, BalancerConfig{Algorithm: Priority, Retries: 1, FailoverCriteria: []string{"http_429", "http_503", "non_idempotent"}})
	a.Fail(429, 1, "30")
	b.Fail(429, 1, "20")
	rec := post(t, p, hello)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	_, typ, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "requests", typ)
	assert.Equal(t, "rate_limit_exceeded", code)
	assert.Equal(t, "20", rec.Header().Get("Retry-After"))

	rec = post(t, p, hello)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "both held out: %s", rec.Body.String())
	assert.Equal(t, "20", rec.Header().Get("Retry-After"))

	*now = now.Add(time.Minute)
	a.Fail(429, 1, "")
	b.Fail(503, 1, "")
	rec = post(t, p, hello)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "a 503 among the failures: %s", rec.Body.String())
}

func TestNoFailoverAfterFirstByte(t *testing.T) {
	// The upstream starts a stream and then breaks: the client has the first events, so
	// the proxy ends the stream with an error event instead of trying another target.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n"))
		w.(http.Flusher).Flush()
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer broken.Close()
	other := aiproxytest.NewOpenAI()
	defer other.Close()
	tb := openaiTarget(other, "other")
	ta := tb
	ta.Model.Name, ta.Model.Options.UpstreamURL, ta.Weight = "broken", broken.URL, 1000
	p := newProxy(t, Config{Targets: []Target{ta, tb}, Balancer: BalancerConfig{FailoverCriteria: []string{"error", "non_idempotent"}}})
	rec := post(t, p, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 200, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, `"content":"par"`)
	assert.Contains(t, body, `"code":"stream_interrupted"`)
	assert.NotContains(t, body, "[DONE]")
	assert.Empty(t, other.Requests())

	// Before the first event, a broken stream fails over.
	a := aiproxytest.NewOpenAI()
	defer a.Close()
	a.Drop(1)
	tc := openaiTarget(a, "first")
	tc.Weight = 1000
	p = newProxy(t, Config{Targets: []Target{tc, tb}, Balancer: BalancerConfig{FailoverCriteria: []string{"error", "non_idempotent"}}})
	rec = post(t, p, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, rec.Code)
	text, err := aiproxytest.CompletionText(rec.Body.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "Hello from other", text)
	assert.True(t, strings.HasSuffix(rec.Body.String(), "data: [DONE]\n\n"))
}

// TestTransportErrorHidesTheURL: a transport error that carries the request URL (a query
// parameter credential in it) reaches the client without the URL.
func TestTransportErrorHidesTheURL(t *testing.T) {
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: errors.New("connection reset by peer")}
	})
	tg := Target{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream.test/v1/chat/completions"}},
		Auth: Auth{ParamName: "key", ParamValue: "query-key-0123456789", ParamLocation: "query"}}
	p := newProxy(t, Config{Targets: []Target{tg}, Transport: tr})
	rec := post(t, p, `{"messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), "connection reset by peer")
	assert.NotContains(t, rec.Body.String(), "query-key-0123456789")
	assert.NotContains(t, rec.Body.String(), "upstream.test")
}

// TestReadTimeoutOnAReusedConnection: read_timeout counts from when a request is sent, not
// from when its pooled connection went idle (net/http keeps a read pending on idle
// connections). A 0.6 s answer on a connection idle for 0.7 s is within a 1 s read_timeout.
func TestReadTimeoutOnAReusedConnection(t *testing.T) {
	var mu sync.Mutex
	var remotes []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes = append(remotes, r.RemoteAddr)
		n := len(remotes)
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		if n == 2 {
			time.Sleep(600 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
	}))
	defer up.Close()
	tg := Target{Model: provider.Model{Provider: "openai", Name: "m", Options: provider.Options{UpstreamURL: up.URL + "/v1/chat/completions"}}}
	p := newProxy(t, Config{Targets: []Target{tg}, Balancer: BalancerConfig{ReadTimeout: time.Second}})
	require.Equal(t, 200, post(t, p, hello).Code)
	time.Sleep(700 * time.Millisecond)
	rec := post(t, p, hello)
	assert.Equal(t, 200, rec.Code, rec.Body.String())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, remotes, 2)
	assert.Equal(t, remotes[0], remotes[1], "the second request reused the connection")
}

// TestStatsNameOnlyATargetThatAnswered: a target whose 200 response cannot be read is an
// attempt, not the target that served; when every attempt fails, Stats names none.
func TestStatsNameOnlyATargetThatAnswered(t *testing.T) {
	garbled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "<html>not json</html>")
	}))
	defer garbled.Close()
	down := aiproxytest.NewOpenAI()
	defer down.Close()
	ta := openaiTarget(down, "garbled")
	ta.Model.Options.UpstreamURL, ta.Weight = garbled.URL+"/v1/chat/completions", 1000
	tb := openaiTarget(down, "down")
	down.Fail(503, 1, "")
	var got []Stats
	p := newProxy(t, Config{Targets: []Target{ta, tb}, Hooks: onStats(func(s Stats) { got = append(got, s) }),
		Balancer: BalancerConfig{FailoverCriteria: []string{"invalid_header", "http_503", "non_idempotent"}}})
	rec := post(t, p, hello)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Len(t, got, 1)
	assert.Len(t, got[0].Attempts, 2)
	assert.Empty(t, got[0].Target)
	assert.Empty(t, got[0].Provider)
	assert.Empty(t, got[0].Model)
}

// TestRetryAfterExpires: a 429's Retry-After, in seconds or as an HTTP date, keeps the target
// out until then by the proxy's clock (Config.Now), and it serves again after.
func TestRetryAfterExpires(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	for name, retryAfter := range map[string]string{"seconds": "30", "date": start.Add(30 * time.Second).UTC().Format(http.TimeFormat)} {
		t.Run(name, func(t *testing.T) {
			a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
			defer a.Close()
			defer b.Close()
			var clock atomic.Pointer[time.Time]
			clock.Store(&start)
			p := newProxy(t, Config{
				Targets:  []Target{openaiTarget(a, "a"), openaiTarget(b, "b")},
				Balancer: BalancerConfig{FailoverCriteria: []string{"http_429", "non_idempotent"}},
				Now:      func() time.Time { return *clock.Load() },
			})
			a.Fail(429, 1, retryAfter)
			require.Equal(t, 200, post(t, p, hello).Code) // a: 429 → b
			almost := start.Add(29 * time.Second)
			clock.Store(&almost)
			for range 4 {
				require.Equal(t, 200, post(t, p, hello).Code)
			}
			assert.Equal(t, 1, len(a.Requests()), "held until Retry-After")
			after := start.Add(31 * time.Second)
			clock.Store(&after)
			for range 2 {
				require.Equal(t, 200, post(t, p, hello).Code)
			}
			assert.Equal(t, 2, len(a.Requests()), "back after Retry-After")
		})
	}
}

// TestWriteTimeout: write_timeout bounds each write of the request: an upstream that stops
// reading the body makes the attempt time out (504).
func TestWriteTimeout(t *testing.T) {
	release := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // reads none of the body
	}))
	defer stalled.Close()
	defer close(release) // before Close, which waits for the handler
	tg := Target{Model: provider.Model{Provider: "openai", Name: "m", Options: provider.Options{UpstreamURL: stalled.URL + "/v1/chat/completions"}}}
	p := newProxy(t, Config{Targets: []Target{tg}, MaxRequestBodySize: -1,
		Balancer: BalancerConfig{WriteTimeout: 200 * time.Millisecond, ReadTimeout: time.Minute}})
	big := `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 16<<20) + `"}]}` // more than the sockets buffer
	start := time.Now()
	rec := post(t, p, big)
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
	assert.Less(t, time.Since(start), 30*time.Second)
}
