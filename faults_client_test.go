package aiproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
)

// Clients that give up (a cancel, a deadline) are not target failures: with max_fails 2, two
// impatient clients of a healthy but slow target leave its breaker closed, and a patient
// client is served. Through the Handler they are recorded as 499 (canceled) or 504 (deadline);
// through the RoundTripper the caller gets its context's error, as from net/http.
func TestClientGivingUpIsNotATargetFailure(t *testing.T) {
	for _, via := range []string{"handler", "roundtripper"} {
		t.Run(via, func(t *testing.T) {
			up := aiproxytest.NewOpenAI()
			defer up.Close()
			up.Stall(2, 300*time.Millisecond)
			var mu sync.Mutex
			var stats []Stats
			p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")},
				Balancer: BalancerConfig{MaxFails: 2, FailTimeout: 30 * time.Second},
				Hooks:    onStats(func(s Stats) { mu.Lock(); stats = append(stats, s); mu.Unlock() })})
			send := func(ctx context.Context) (int, error) {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(hello)).WithContext(ctx)
				if via == "handler" {
					rec := httptest.NewRecorder()
					p.ServeHTTP(rec, req)
					return rec.Code, nil
				}
				resp, err := p.RoundTrip(req)
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			code, err := send(ctx)
			cancel()
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			code2, err2 := send(ctx)
			if via == "handler" {
				assert.Equal(t, http.StatusGatewayTimeout, code, "a deadline")
				assert.Equal(t, StatusClientClosedRequest, code2, "a cancel")
			} else {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.ErrorIs(t, err2, context.Canceled)
			}
			code, err = send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 200, code, "the target's breaker stayed closed")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, stats, 3)
			for _, s := range stats[:2] {
				assert.Empty(t, s.Attempts, "no failed attempt is recorded against the target")
				assert.True(t, errors.Is(s.Err, context.DeadlineExceeded) || errors.Is(s.Err, context.Canceled), s.Err)
			}
		})
	}
}

// A header the client sent with a CR or LF is the client's mistake: 400 before any attempt,
// through the RoundTripper (the Handler's server refuses it itself), with no effect on the
// targets' breakers.
func TestBadClientHeaderIsA400(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(a, "a"), openaiTarget(b, "b")}, Balancer: BalancerConfig{MaxFails: 1}})
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(hello))
		req.Header["X-Trace"] = []string{"abc\r\nX-Injected: 1"}
		resp, err := p.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 400, resp.StatusCode)
		resp.Body.Close()
	}
	assert.Empty(t, a.Requests())
	assert.Empty(t, b.Requests())
	for range 2 {
		assert.Equal(t, 200, post(t, p, hello).Code, "no breaker opened")
	}
}

// Bad input is a 400 naming the field, never forwarded.
func TestBadInputNamesTheField(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}})
	for _, tc := range []struct{ name, body, code, field string }{
		{"stream not a boolean", `{"model":"gpt-4o","stream":"yes","messages":[{"role":"user","content":"hi"}]}`, "invalid_type", "stream"},
		{"invalid UTF-8 in a message", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":\"bad \xff\xfe\"}]}", "invalid_encoding", "messages[1]"},
		{"invalid UTF-8 elsewhere", "{\"model\":\"gpt-4o\",\"user\":\"\xc3\x28\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "invalid_encoding", `"user"`},
		{"model not a string", `{"model":7,"messages":[{"role":"user","content":"hi"}]}`, "invalid_type", "model"},
		{"empty body", ``, "", ""},
		{"deep nesting", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, "invalid_json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(t, p, tc.body)
			assert.Equal(t, 400, rec.Code, rec.Body.String())
			msg, _, code := openaiError(t, rec.Body.Bytes())
			if tc.code != "" {
				assert.Equal(t, tc.code, code)
			}
			assert.Contains(t, msg, tc.field)
		})
	}
	assert.Empty(t, up.Requests(), "nothing was forwarded")
}

// An unreachable target is named in the client's error; the proxy's socket addresses are not.
func TestUnreachableTargetNamedNotItsAddress(t *testing.T) {
	url := closedURL(t)
	tg := Target{Name: "primary", Model: openaiTarget(aiproxytest.NewOpenAI(), "gpt-4o").Model}
	tg.Model.Options.UpstreamURL = url + "/v1/chat/completions"
	p := newProxy(t, Config{Targets: []Target{tg}})
	rec := post(t, p, hello)
	assert.Equal(t, 502, rec.Code)
	msg, _, _ := openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "primary")
	assert.Contains(t, msg, "connection refused")
	assert.NotContains(t, msg, strings.TrimPrefix(url, "http://"))
	assert.NotContains(t, msg, "127.0.0.1")
}

// With log_statistics, a request that failed on every target is logged too: one line per
// request, whatever happened.
func TestEveryRequestLogsOneLine(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	var logs bytes.Buffer // the requests are sequential
	tg := openaiTarget(up, "gpt-4o")
	tg.Logging.LogStatistics = true
	p := newProxy(t, Config{Targets: []Target{tg}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	up.Fail(500, 1, "")
	assert.Equal(t, 500, post(t, p, hello).Code)
	assert.Equal(t, 200, post(t, p, hello).Code)
	assert.Equal(t, 400, post(t, p, `{"model":"nope","messages":[]}`).Code)
	assert.Equal(t, 3, strings.Count(logs.String(), "aiproxy request"), logs.String())
}

// A Retry-After far in the future holds the target out for Config.MaxRetryAfter at most.
func TestRetryAfterIsCapped(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	now := time.Unix(1000, 0)
	clock := now
	ta, tb := openaiTarget(a, "a"), openaiTarget(b, "b")
	ta.Weight, tb.Weight = 100, 10
	p := newProxy(t, Config{Targets: []Target{ta, tb}, MaxRetryAfter: time.Minute,
		Balancer: BalancerConfig{Algorithm: Priority, FailoverCriteria: []string{"http_429", "non_idempotent"}},
		Now:      func() time.Time { return clock }})
	a.Fail(429, 1, "999999999")
	assert.Equal(t, 200, post(t, p, hello).Code)
	clock = now.Add(59 * time.Second)
	post(t, p, hello)
	assert.Len(t, a.Requests(), 1, "held within the cap")
	clock = now.Add(61 * time.Second)
	post(t, p, hello)
	assert.Len(t, a.Requests(), 2, "back after the cap")
}

// An upstream that echoes the key it was sent, in a header or in a successful body or stream,
// passes it on to no client: only an allow-list of response headers is forwarded, and the
// attempt's credentials are redacted from 2xx bodies and stream events as from errors.
func TestEchoedKeyNeverReachesTheClient(t *testing.T) {
	const key = "sk-echoed-0123456789abcdef"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		w.Header().Set("X-Echo-Authorization", got)
		w.Header().Set("X-Request-Id", "req_1")
		w.Header().Set("X-Ratelimit-Remaining-Requests", "99")
		w.Header().Set("Set-Cookie", "session=1")
		if strings.Contains(r.URL.RawQuery, "stream") || strings.Contains(readAllString(r), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"you sent `+got+`"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"you sent `+got+`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer up.Close()
	tg := Target{Model: openaiTarget(aiproxytest.NewOpenAI(), "m").Model, Auth: Auth{HeaderName: "Authorization", HeaderValue: "Bearer " + key}}
	tg.Model.Options.UpstreamURL = up.URL + "/v1/chat/completions"
	p := newProxy(t, Config{Targets: []Target{tg}})
	for _, body := range []string{hello, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`} {
		rec := post(t, p, body)
		require.Equal(t, 200, rec.Code)
		assert.NotContains(t, rec.Body.String(), key)
		assert.Contains(t, rec.Body.String(), "you sent [redacted]")
		for k, vs := range rec.Header() {
			assert.NotContains(t, strings.Join(vs, " "), key, k)
		}
		assert.Empty(t, rec.Header().Get("X-Echo-Authorization"))
		assert.Empty(t, rec.Header().Get("Set-Cookie"))
		assert.Equal(t, "req_1", rec.Header().Get("X-Request-Id"), "request IDs are forwarded")
		assert.Equal(t, "99", rec.Header().Get("X-Ratelimit-Remaining-Requests"), "rate limits are forwarded")
	}
}

func readAllString(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// Headers the client's Connection header names are hop-by-hop: never forwarded upstream.
func TestConnectionNamedHeadersAreNotForwarded(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}})
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(hello))
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "secret-of-this-hop")
	req.Header.Set("X-Kept", "1")
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	got := up.Requests()[0].Header
	assert.Empty(t, got.Get("X-Hop"))
	assert.Equal(t, "1", got.Get("X-Kept"))
}
