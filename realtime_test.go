package aiproxy_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// fakeRealtime speaks OpenAI's Realtime API over a WebSocket: session.created on connect,
// session.updated for session.update, and for response.create a text response
// (response.created, response.output_text.delta, response.done with usage), and an error
// that echoes the request's Authorization for any other event; check checks the upgrade
// request.
func fakeRealtime(t *testing.T, check func(r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		check(r)
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer conn.CloseNow()
		ctx := r.Context()
		send := func(v string) bool { return conn.Write(ctx, websocket.MessageText, []byte(v)) == nil }
		model := r.URL.Query().Get("model")
		if !send(`{"type":"session.created","event_id":"evt_1","session":{"id":"sess_1","object":"realtime.session","model":"` + model + `"}}`) {
			return
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var ev struct {
				Type    string          `json:"type"`
				Session json.RawMessage `json:"session"`
			}
			_ = json.Unmarshal(data, &ev)
			switch ev.Type {
			case "session.update":
				send(`{"type":"session.updated","event_id":"evt_2","session":` + string(ev.Session) + `}`)
			case "response.create":
				send(`{"type":"response.created","event_id":"evt_3","response":{"id":"resp_1","object":"realtime.response","status":"in_progress"}}`)
				send(`{"type":"response.output_text.delta","event_id":"evt_4","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"Hello from ` + model + `"}`)
				send(`{"type":"response.done","event_id":"evt_5","response":{"id":"resp_1","object":"realtime.response","status":"completed",` +
					`"usage":{"total_tokens":12,"input_tokens":8,"output_tokens":4}}}`)
			default: // a careless server that echoes the key it was given
				send(`{"type":"error","event_id":"evt_9","error":{"type":"invalid_request_error","message":"unknown event for key ` + r.Header.Get("Authorization") + `"}}`)
			}
		}
	}
}

// realtimeSession runs a session: session.created, session.update, response.create, and
// returns the text of the response.
func realtimeSession(t *testing.T, conn *websocket.Conn) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	read := func() map[string]any {
		_, data, err := conn.Read(ctx)
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(data, &ev), string(data))
		return ev
	}
	ev := read()
	require.Equal(t, "session.created", ev["type"])
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"type":"session.update","session":{"instructions":"Be brief."}}`)))
	ev = read()
	require.Equal(t, "session.updated", ev["type"])
	assert.Equal(t, "Be brief.", ev["session"].(map[string]any)["instructions"])
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"type":"response.create"}`)))
	var text string
	for {
		ev = read()
		switch ev["type"] {
		case "response.output_text.delta":
			text += ev["delta"].(string)
		case "response.done":
			require.NoError(t, conn.Close(websocket.StatusNormalClosure, ""))
			return text
		}
	}
}

func realtimeProxy(t *testing.T, targets []aiproxy.Target, transport http.RoundTripper) (*aiproxy.Proxy, chan aiproxy.Stats) {
	stats := make(chan aiproxy.Stats, 8)
	p, err := aiproxy.New(aiproxy.Config{
		GenAICategory: "realtime/generation",
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority,
			FailoverCriteria: []string{"error", "timeout", "http_429", "http_503", "non_idempotent"}},
		Targets:   targets,
		Transport: transport,
		Hooks:     onStats(func(s aiproxy.Stats) { stats <- s }),
	})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p, stats
}

func TestRealtimeOpenAIFailover(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"message":"The server is overloaded.","type":"server_error","code":null}}`)
	}))
	t.Cleanup(bad.Close)
	good := httptest.NewServer(fakeRealtime(t, func(r *http.Request) {
		assert.Equal(t, "/v1/realtime", r.URL.Path)
		assert.Equal(t, "gpt-4o-realtime-preview", r.URL.Query().Get("model"))
		assert.Equal(t, "Bearer sk-rt", r.Header.Get("Authorization"))
		assert.Equal(t, "realtime=v1", r.Header.Get("OpenAI-Beta"))
	}))
	t.Cleanup(good.Close)
	target := func(url string, weight int) aiproxy.Target {
		return aiproxy.Target{RouteType: "realtime/v1/realtime", Weight: weight,
			Model: provider.Model{Provider: "openai", Name: "gpt-4o-realtime-preview", Alias: "realtime", Options: provider.Options{UpstreamURL: url}},
			Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-rt"}}
	}
	p, stats := realtimeProxy(t, []aiproxy.Target{
		target(bad.URL+"/v1/realtime", 30),
		target("ws://"+strings.TrimPrefix(good.URL, "http://"), 20), // host only: /v1/realtime is added
	}, nil)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	header := http.Header{"Openai-Beta": {"realtime=v1"}, "Authorization": {"Bearer client-key"}}
	dials := map[string]func(ctx context.Context) (*websocket.Conn, *http.Response, error){
		"Handler": func(ctx context.Context) (*websocket.Conn, *http.Response, error) {
			return websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/realtime?model=realtime", &websocket.DialOptions{HTTPHeader: header})
		},
		"RoundTripper": func(ctx context.Context) (*websocket.Conn, *http.Response, error) {
			return websocket.Dial(ctx, "ws://aiproxy.invalid/v1/realtime?model=realtime",
				&websocket.DialOptions{HTTPHeader: header, HTTPClient: &http.Client{Transport: p}})
		},
	}
	for name, dial := range dials {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, resp, err := dial(ctx)
			require.NoError(t, err)
			defer conn.CloseNow()
			assert.Equal(t, []string{"openai/gpt-4o-realtime-preview"}, resp.Header.Values("X-Kong-Llm-Model"))
			assert.Equal(t, "Hello from gpt-4o-realtime-preview", realtimeSession(t, conn))
			select {
			case s := <-stats:
				assert.Equal(t, provider.RouteType("realtime/v1/realtime"), s.Route)
				assert.Equal(t, 101, s.Status)
				assert.Equal(t, provider.Usage{PromptTokens: 8, CompletionTokens: 4, TotalTokens: 12}, s.Usage, "metered from response.done")
				assert.Equal(t, "openai", s.Provider)
				require.Len(t, s.Attempts, 1, "the overloaded target failed over before the upgrade")
				assert.Equal(t, 503, s.Attempts[0].Status)
			case <-time.After(5 * time.Second):
				t.Fatal("the session's stats were not recorded when it closed")
			}
		})
	}
}

// TestRealtimeRedactsCredentials: a server event that echoes the target's key reaches the
// client with the key redacted, through the Handler's hijacked connection.
func TestRealtimeRedactsCredentials(t *testing.T) {
	const key = "sk-realtime-target-key-0123456789"
	up := httptest.NewServer(fakeRealtime(t, func(*http.Request) {}))
	t.Cleanup(up.Close)
	p, _ := realtimeProxy(t, []aiproxy.Target{{RouteType: "realtime/v1/realtime",
		Model: provider.Model{Provider: "openai", Name: "gpt-realtime", Options: provider.Options{UpstreamURL: up.URL + "/v1/realtime"}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: aiproxy.Secret("Bearer " + key)}}}, nil)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/realtime?model=gpt-realtime", nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	_, created, err := conn.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(created), "session.created")
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"type":"no.such.event"}`)))
	_, echoed, err := conn.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(echoed), "unknown event for key [redacted]")
	assert.NotContains(t, string(echoed), key)
}

func TestRealtimeAzure(t *testing.T) {
	srv := httptest.NewTLSServer(fakeRealtime(t, func(r *http.Request) {
		assert.Equal(t, "/openai/v1/realtime", r.URL.Path)
		assert.Equal(t, "my-realtime-deployment", r.URL.Query().Get("model"))
		assert.Equal(t, "az-key", r.Header.Get("Api-Key"))
	}))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the test server's certificate
	p, stats := realtimeProxy(t, []aiproxy.Target{{RouteType: "realtime/v1/realtime",
		Model: provider.Model{Provider: "azure", Name: "gpt-realtime", Options: provider.Options{
			AzureInstance: strings.TrimPrefix(srv.URL, "https://"), AzureDeploymentID: "my-realtime-deployment"}},
		Auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "az-key"}}}, tr)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(front.URL, "http")+"/openai/v1/realtime?model=gpt-realtime", nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	assert.Equal(t, "Hello from my-realtime-deployment", realtimeSession(t, conn))
	s := <-stats
	assert.Equal(t, "azure", s.Provider)
	assert.Empty(t, s.Attempts)
}

func TestRealtimeRefusals(t *testing.T) {
	p, _ := realtimeProxy(t, []aiproxy.Target{{RouteType: "realtime/v1/realtime",
		Model: provider.Model{Provider: "openai", Name: "gpt-realtime", Options: provider.Options{UpstreamURL: "http://127.0.0.1:1/v1/realtime"}}}}, nil)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	for name, c := range map[string]*http.Client{"Handler": srv.Client(), "RoundTripper": {Transport: p}} {
		t.Run(name, func(t *testing.T) {
			base := srv.URL
			if name == "RoundTripper" {
				base = "http://aiproxy.invalid"
			}
			resp, err := c.Get(base + "/v1/realtime?model=gpt-realtime")
			require.NoError(t, err)
			body := readAllString(t, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
			assert.Contains(t, body, `"code":"upgrade_required"`)
			assert.Contains(t, body, "WebSocket")

			resp, err = c.Post(base+"/v1/realtime", "application/json", strings.NewReader(`{}`))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

			resp, err = c.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"Hi"}]}`))
			require.NoError(t, err)
			body = readAllString(t, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			assert.Contains(t, body, "GET /v1/realtime with a WebSocket upgrade")
		})
	}
	_, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{RouteType: "realtime/v1/realtime",
		Model: provider.Model{Provider: "anthropic", Name: "claude"}}}})
	assert.ErrorContains(t, err, "served for providers openai and azure")
}

// A WebSocket upgrade on a proxy without realtime targets is 404, in OpenAI's format.
func TestRealtimeUnknownWithoutRealtimeTargets(t *testing.T) {
	var stats []aiproxy.Stats
	p := nativeProxy(t, "", &stats)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/realtime?model=gpt-4o", nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
