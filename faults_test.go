package aiproxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// fault is how a faulty upstream answers; n counts its requests, from 1.
type fault func(w http.ResponseWriter, r *http.Request, n int64)

// faultScenario is one row of the fault suite: a faulty target first in priority, and,
// with healthy, a healthy OpenAI target behind it. Every response must have status want (and,
// for an error, the OpenAI error code wantCode); faultyHits, when not negative, is how many
// requests the faulty target gets (the breaker opening after max_fails, a Retry-After hold).
type faultScenario struct {
	name       string
	provider   string // the faulty target's provider; "" is openai
	fault      fault  // nil: the faulty target's address refuses connections
	stream     bool
	healthy    bool
	criteria   []string // nil: error, timeout, invalid_header, http_429, http_5xx, non_idempotent
	want       int
	wantCode   string
	faultyHits int64
	requests   int // 0: 12
	check      func(t *testing.T, rec *httptest.ResponseRecorder)
}

const faultMaxFails = 3

// allFaults fail over on everything the fault suite injects.
var allFaults = []string{"error", "timeout", "invalid_header", "http_429", "http_500", "http_502", "http_503", "http_504", "non_idempotent"}

func hijackClose(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

func status(code int, contentType, body string) fault {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func openaiStatus(code int, typ string) fault {
	return status(code, "application/json", `{"error":{"message":"injected `+typ+`","type":"`+typ+`","param":null,"code":null}}`)
}

// rateLimited answers 429 with a Retry-After of retryAfter: a number of seconds, "date" (an
// HTTP date 30 s ahead), or none.
func rateLimited(retryAfter string) fault {
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		switch retryAfter {
		case "":
		case "date":
			w.Header().Set("Retry-After", time.Now().Add(30*time.Second).UTC().Format(http.TimeFormat))
		default:
			w.Header().Set("Retry-After", retryAfter)
		}
		openaiStatus(429, "requests")(w, r, n)
	}
}

func stall(d time.Duration) fault {
	return func(w http.ResponseWriter, r *http.Request, _ int64) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
}

const faultChunk = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`

// firstChunkThen sends one good stream event, then does then.
func firstChunkThen(then func(w http.ResponseWriter, r *http.Request)) fault {
	return func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+faultChunk+"\n\n")
		w.(http.Flusher).Flush()
		then(w, r)
	}
}

// streamError is what a client of a stream cut off after its first byte reads: the first
// event, then an OpenAI-format error event, then nothing (no failover is possible then).
func streamError(t *testing.T, rec *httptest.ResponseRecorder) {
	body := rec.Body.String()
	assert.Contains(t, body, `"content":"Hi"`)
	assert.Contains(t, body, `data: {"error":`)
}

func faultScenarios() []faultScenario {
	return []faultScenario{
		{name: "connection refused", healthy: true, want: 200, faultyHits: 0},
		{name: "reset before headers", fault: func(w http.ResponseWriter, _ *http.Request, _ int64) { hijackClose(w) },
			healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "reset mid-stream", stream: true, fault: firstChunkThen(func(w http.ResponseWriter, _ *http.Request) { hijackClose(w) }),
			healthy: true, want: 200, faultyHits: faultMaxFails, check: streamError},
		{name: "read timeout before headers", fault: stall(5 * time.Second), healthy: true, want: 200, faultyHits: faultMaxFails, requests: 5},
		{name: "stalled stream", stream: true, fault: firstChunkThen(func(_ http.ResponseWriter, r *http.Request) { stall(5*time.Second)(nil, r, 0) }),
			healthy: true, want: 200, faultyHits: faultMaxFails, requests: 5, check: streamError},
		{name: "slow first byte within read_timeout", fault: func(w http.ResponseWriter, r *http.Request, n int64) {
			time.Sleep(100 * time.Millisecond)
			status(200, "application/json", `{"id":"x","object":"chat.completion","created":1,"model":"slow","choices":[{"index":0,"message":{"role":"assistant","content":"late"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)(w, r, n)
		}, healthy: true, want: 200, faultyHits: 5, requests: 5},
		{name: "429 with Retry-After seconds", fault: rateLimited("30"), healthy: true, want: 200, faultyHits: 1},
		{name: "429 with Retry-After date", fault: rateLimited("date"), healthy: true, want: 200, faultyHits: 1},
		{name: "429 without Retry-After", fault: rateLimited(""), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "429 on the only target", fault: rateLimited("30"), want: 429, wantCode: "rate_limit_exceeded", faultyHits: 1, requests: 1,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"), "the client learns when to come back")
			}},
		{name: "500", fault: openaiStatus(500, "server_error"), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "502", fault: status(502, "text/html", "<html><body>Bad Gateway</body></html>"), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "503", fault: openaiStatus(503, "server_error"), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "504", fault: status(504, "text/plain", "upstream request timeout"), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "Anthropic 529 overloaded", provider: "anthropic",
			fault:   status(529, "application/json", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
			healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "Gemini 503 UNAVAILABLE", provider: "gemini",
			fault:   status(503, "application/json", `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`),
			healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "Bedrock throttling", provider: "bedrock", fault: func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("X-Amzn-Errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
			status(429, "application/json", `{"message":"Too many requests, please wait before trying again."}`)(w, r, n)
		}, healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "malformed JSON", fault: status(200, "application/json", `{"id":"x","choices":[`), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "empty JSON body", fault: status(200, "application/json", ""), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "HTML instead of JSON", fault: status(200, "text/html", "<html>login</html>"), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "malformed first SSE event", stream: true, fault: status(200, "text/event-stream", "data: {not json\n\n"),
			healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "empty SSE body", stream: true, fault: status(200, "text/event-stream", ""), healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "empty SSE body, invalid_header only", stream: true, fault: status(200, "text/event-stream", ""), healthy: true,
			criteria: []string{"invalid_header", "non_idempotent"}, want: 200, faultyHits: faultMaxFails},
		{name: "malformed first SSE event, invalid_header only", stream: true, fault: status(200, "text/event-stream", "data: <html>\n\n"),
			healthy: true, criteria: []string{"invalid_header", "non_idempotent"}, want: 200, faultyHits: faultMaxFails},
		{name: "HTML instead of a stream", stream: true, fault: status(200, "text/html", "<html>maintenance</html>"),
			healthy: true, want: 200, faultyHits: faultMaxFails},
		{name: "huge response", fault: func(w http.ResponseWriter, _ *http.Request, _ int64) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`)
			block := strings.Repeat("a", 1<<20)
			for range maxResponse>>20 + 1 {
				if _, err := io.WriteString(w, block); err != nil {
					return
				}
			}
			io.WriteString(w, `"}}]}`)
		}, healthy: true, want: 200, faultyHits: 2, requests: 2},
		{name: "flapping target", fault: func(w http.ResponseWriter, r *http.Request, n int64) {
			if n%2 == 0 {
				openaiStatus(500, "server_error")(w, r, n)
				return
			}
			status(200, "application/json", `{"id":"x","object":"chat.completion","created":1,"model":"flappy","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)(w, r, n)
		}, healthy: true, want: 200, faultyHits: -1},
		{name: "all targets down", fault: openaiStatus(503, "server_error"), want: 503, wantCode: "", faultyHits: faultMaxFails},
		{name: "500 not in the criteria", fault: openaiStatus(500, "server_error"), healthy: true, criteria: []string{"error", "timeout"},
			want: 500, faultyHits: -1},
	}
}

// TestFaults runs the fault suite: each scenario's requests, one after the other, each
// response checked. A healthy target behind a faulty one means no request is lost.
func TestFaults(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer func(m int64) { maxResponse = m }(maxResponse)
	maxResponse = 4 << 20 // the huge response row sends more than this, quickly
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, sc := range faultScenarios() {
		t.Run(sc.name, func(t *testing.T) { runFault(t, sc) })
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(32<<20), "heap in use grew")
}

func runFault(t *testing.T, sc faultScenario) {
	var hits atomic.Int64
	url := closedURL(t)
	if sc.fault != nil {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			sc.fault(w, r, hits.Add(1))
		}))
		t.Cleanup(srv.Close)
		url = srv.URL
	}
	faulty := Target{Name: "faulty", Weight: 100, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: url + "/v1/chat/completions"}}}
	switch sc.provider {
	case "anthropic":
		faulty.Model = provider.Model{Provider: "anthropic", Name: "claude-sonnet-4-5", Options: provider.Options{UpstreamURL: url + "/v1/messages"}}
		faulty.Auth = Auth{HeaderName: "x-api-key", HeaderValue: "sk-ant-key"}
	case "gemini":
		faulty.Model = provider.Model{Provider: "gemini", Name: "gemini-2.0-flash", Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: url}}}
		faulty.Auth = Auth{HeaderName: "x-goog-api-key", HeaderValue: "g-key"}
	case "bedrock":
		faulty.Model = provider.Model{Provider: "bedrock", Name: "anthropic.claude-3-haiku", Options: provider.Options{UpstreamURL: url,
			Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}}
		faulty.Auth = Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "secretsecretsecret"}
	}
	targets := []Target{faulty}
	if sc.healthy {
		up := aiproxytest.NewOpenAI()
		t.Cleanup(up.Close)
		h := openaiTarget(up, "gpt-4o-mini")
		h.Name, h.Weight = "healthy", 10
		targets = append(targets, h)
	}
	criteria := sc.criteria
	if criteria == nil {
		criteria = allFaults
	}
	p := newProxy(t, Config{Targets: targets, Balancer: BalancerConfig{Algorithm: Priority, FailoverCriteria: criteria,
		MaxFails: faultMaxFails, FailTimeout: time.Minute, ReadTimeout: 300 * time.Millisecond}})
	n := sc.requests
	if n == 0 {
		n = 12
	}
	body := hello
	if sc.stream {
		body = `{"model":"","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	}
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)).WithContext(ctx)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		cancel()
		msg := fmt.Sprintf("request %d: %s", i, rec.Body.String())
		require.Equal(t, sc.want, rec.Code, msg)
		if sc.want >= 400 {
			_, _, code := openaiError(t, rec.Body.Bytes())
			if sc.wantCode != "" {
				assert.Equal(t, sc.wantCode, code, msg)
			}
		}
		if sc.check != nil && i == 0 {
			sc.check(t, rec)
		}
	}
	if sc.faultyHits >= 0 {
		assert.Equal(t, sc.faultyHits, hits.Load(), "requests that reached the faulty target")
	}
}
