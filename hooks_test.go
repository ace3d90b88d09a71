package aiproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

type ctxKey struct{}

// The hooks see every request, refused and failed ones included, with the request's
// context (what Start put there) and headers; BeforeRoute can refuse one with an OpenAI-format
// error; Attempt sees each attempt and can add headers upstream.
func TestHooksSeeEveryRequest(t *testing.T) {
	bad, good := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer bad.Close()
	defer good.Close()
	bad.Fail(500, 1, "")
	var mu sync.Mutex
	var events []string
	add := func(format string, args ...any) {
		mu.Lock()
		events = append(events, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{
			{Name: "bad", Weight: 100, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: bad.ChatURL()}}},
			{Name: "good", Weight: 10, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: good.ChatURL()}}},
		},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"http_500", "non_idempotent"}},
		Hooks: []aiproxy.Hook{{
			Start: func(ctx context.Context, r *http.Request) context.Context {
				return context.WithValue(ctx, ctxKey{}, r.Header.Get("X-Caller"))
			},
			BeforeRoute: func(ctx context.Context, r *http.Request, in aiproxy.Inbound) error {
				add("before %s %s %s", ctx.Value(ctxKey{}), in.Route, in.Model)
				if r.Header.Get("X-Caller") == "mallory" {
					return errors.New("mallory is not allowed")
				}
				return nil
			},
			Attempt: func(ctx context.Context, target aiproxy.TargetInfo, up *http.Request) func(aiproxy.Attempt) {
				up.Header.Set("X-Traced", "1")
				return func(a aiproxy.Attempt) { add("attempt %s %d %s", a.Target, a.Status, a.Class) }
			},
			AfterResponse: func(ctx context.Context, r *http.Request, s *aiproxy.Stats) {
				add("after %s %d %s", ctx.Value(ctxKey{}), s.Status, s.Target)
			},
		}},
	})
	require.NoError(t, err)
	defer p.Close()
	send := func(caller string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("X-Caller", caller)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, 200, send("alice").Code)
	rec := send("mallory")
	assert.Equal(t, 403, rec.Code)
	assert.Contains(t, rec.Body.String(), `"type":"permission_error"`)
	assert.NotEmpty(t, rec.Header().Get(aiproxy.HeaderRequestID))
	bad.Fail(500, 1, "")
	good.Fail(500, 1, "")
	assert.Equal(t, 502, send("bob").Code, "every attempt failed")
	assert.Equal(t, []string{
		"before alice llm/v1/chat gpt-4o", "attempt bad 500 http_500", "attempt good 200 ", "after alice 200 good",
		"before mallory llm/v1/chat gpt-4o", "after mallory 403 ",
		"before bob llm/v1/chat gpt-4o", "attempt bad 500 http_500", "attempt good 500 http_500", "after bob 502 ",
	}, events)
	assert.Equal(t, "1", good.Requests()[0].Header.Get("X-Traced"))
}

// A request ID comes from the client's X-Request-Id or is generated, and is echoed.
func TestRequestID(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	var ids []string
	p := newTestProxy(t, aiproxy.Config{Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}}}},
		Hooks: onStats(func(s aiproxy.Stats) { ids = append(ids, s.RequestID) })})
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("X-Request-Id", "abc-123")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	assert.Equal(t, "abc-123", rec.Header().Get(aiproxy.HeaderRequestID))
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`)))
	assert.Len(t, rec.Header().Get(aiproxy.HeaderRequestID), 24)
	require.Len(t, ids, 2)
	assert.Equal(t, "abc-123", ids[0])
	assert.Equal(t, rec.Header().Get(aiproxy.HeaderRequestID), ids[1])
}

func newTestProxy(t *testing.T, cfg aiproxy.Config) *aiproxy.Proxy {
	t.Helper()
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// Time to first token is the time to the first content delta, not to the role-only first
// chunk; an OpenAI stream whose client did not ask for usage is asked for it upstream, and
// the usage-only chunk is kept from the client.
func TestStreamTimingAndUsage(t *testing.T) {
	var gotBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":"stop"}]}`+"\n\n")
		if strings.Contains(gotBody, `"include_usage":true`) {
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`+"\n\n")
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer up.Close()
	var stats aiproxy.Stats
	p := newTestProxy(t, aiproxy.Config{Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.URL}}}},
		Hooks: onStats(func(s aiproxy.Stats) { stats = s })})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)))
	assert.Contains(t, gotBody, `"stream_options":{"include_usage":true}`)
	assert.NotContains(t, rec.Body.String(), `"usage"`, "the client did not ask for usage")
	assert.Contains(t, rec.Body.String(), "Hello")
	assert.True(t, stats.UsageReported)
	assert.Equal(t, 6, stats.Usage.TotalTokens)
	assert.GreaterOrEqual(t, stats.TimeToFirstToken, 150*time.Millisecond, "the first content, not the role chunk")

	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)))
	assert.Contains(t, rec.Body.String(), `"usage":{"prompt_tokens":5`, "a client that asked gets it")
}
