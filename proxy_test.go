package aiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// openaiTarget returns a target served by the fake upstream f.
func openaiTarget(f *aiproxytest.OpenAI, model string) Target {
	return Target{
		Model: provider.Model{Provider: "openai", Name: model, Options: provider.Options{UpstreamURL: f.ChatURL()}},
		Auth:  Auth{HeaderName: "Authorization", HeaderValue: Secret("Bearer " + f.APIKey)},
	}
}

// onStats is a hook that hands each request's Stats to f.
func onStats(f func(Stats)) []Hook {
	return []Hook{{AfterResponse: func(_ context.Context, _ *http.Request, s *Stats) { f(*s) }}}
}

func newProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// post sends body through the proxy's Handler and returns the recorded response.
func post(t *testing.T, h http.Handler, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// openaiError decodes an OpenAI-format error body.
func openaiError(t *testing.T, body []byte) (message, typ, code string) {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	require.NotEmpty(t, e.Error.Message, string(body))
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	return e.Error.Message, e.Error.Type, code
}

func TestChatThroughHandler(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.APIKey = "sk-upstream"
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}})

	rec := post(t, p, `{"model":"","messages":[{"role":"user","content":"What is 1+1?"}]}`, "Authorization", "Bearer client-key")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	text, err := aiproxytest.CompletionText(rec.Body.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "Hello from gpt-4o", text)
	assert.Equal(t, "openai/gpt-4o", rec.Header().Get("X-Kong-LLM-Model"))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.NotEmpty(t, rec.Header().Get("X-Request-Id"), "upstream headers pass through")

	reqs := up.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer sk-upstream", reqs[0].Header.Get("Authorization"), "the configured key replaces the client's")
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &sent))
	assert.Equal(t, "gpt-4o", sent["model"])
}

func TestRoundTripper(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o-mini")}})
	client := &http.Client{Transport: p}
	resp, err := client.Post("https://api.openai.com/v1/chat/completions", "application/json",
		bytes.NewReader([]byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	text, err := aiproxytest.CompletionText(body)
	require.NoError(t, err)
	assert.Equal(t, "Hello from gpt-4o-mini", text)
}

func TestBadRequests(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}, MaxRequestBodySize: 256})
	tests := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"not json", `{"messages":`, 400, "invalid_json", "not a JSON object"},
		{"array body", `[]`, 400, "invalid_json", "not a JSON object"},
		{"no messages", `{"model":"gpt-4o"}`, 400, "missing_messages", "messages is required"},
		{"empty messages", `{"messages":[]}`, 400, "invalid_messages", "must not be empty"},
		{"messages not array", `{"messages":"hi"}`, 400, "invalid_messages", "must be an array"},
		{"message not object", `{"messages":["hi"]}`, 400, "invalid_messages", "messages[0] must be an object"},
		{"missing role", `{"messages":[{"content":"hi"}]}`, 400, "invalid_messages", "messages[0].role is required"},
		{"bad role", `{"messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]}`, 400, "invalid_messages", `messages[1].role "robot"`},
		{"model not string", `{"model":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_type", "model must be a string"},
		{"unknown model", `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}`, 400, "model_not_found", `"gpt-9"`},
		{"too large", `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 300) + `"}]}`, 413, "request_too_large", "max_request_body_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(t, p, tt.body)
			assert.Equal(t, tt.status, rec.Code)
			msg, typ, code := openaiError(t, rec.Body.Bytes())
			assert.Equal(t, tt.code, code)
			assert.Equal(t, "invalid_request_error", typ)
			assert.Contains(t, msg, tt.msg)
		})
	}
	assert.Empty(t, up.Requests(), "no bad request reaches the upstream")

	req := httptest.NewRequest(http.MethodGet, "/v1/chat/completions", nil)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)

	req = httptest.NewRequest(http.MethodPost, "/v1/embeddings", strings.NewReader(`{"input":"x"}`))
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotFound, rec.Code, "a chat proxy does not serve embeddings")
}

func TestModelOptions(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	tg := openaiTarget(up, "gpt-3.5-turbo")
	maxTokens, temp, topP, topK := 826, 0.0, 0.5, 40
	tg.Model.Options.MaxTokens, tg.Model.Options.Temperature, tg.Model.Options.TopP = &maxTokens, &temp, &topP
	tg.Model.Options.TopK = &topK // OpenAI has no top_k: the translators whose upstream takes it send it
	p := newProxy(t, Config{Targets: []Target{tg}})

	sent := func(body string) map[string]any {
		t.Helper()
		rec := post(t, p, body)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		reqs := up.Requests()
		var m map[string]any
		require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &m))
		return m
	}
	m := sent(`{"messages":[{"role":"user","content":"hi"}],"user":"u1","logit_bias":{"50256":-100}}`)
	assert.Equal(t, map[string]any{
		"model": "gpt-3.5-turbo", "max_tokens": 826.0, "temperature": 0.0, "top_p": 0.5, "user": "u1",
		"logit_bias": map[string]any{"50256": -100.0}, "messages": []any{map[string]any{"role": "user", "content": "hi"}},
	}, m, "options fill defaults (top_k not, for OpenAI); unknown fields pass through")

	m = sent(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":1.2}`)
	assert.Equal(t, 5.0, m["max_tokens"], "the request wins")
	assert.Equal(t, 1.2, m["temperature"])
	assert.Equal(t, 0.5, m["top_p"])

	m = sent(`{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9}`)
	assert.NotContains(t, m, "max_tokens", "max_completion_tokens counts as the client's max_tokens")
}

func TestAliases(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	powerful, fast := openaiTarget(up, "gpt-4o"), openaiTarget(up, "gpt-4o-mini")
	powerful.Model.Alias, fast.Model.Alias = "powerful", "fast"
	p := newProxy(t, Config{Targets: []Target{powerful, fast}})
	for alias, model := range map[string]string{"powerful": "gpt-4o", "fast": "gpt-4o-mini", "gpt-4o-mini": "gpt-4o-mini"} {
		rec := post(t, p, `{"model":"`+alias+`","messages":[{"role":"user","content":"What is 1+1?"}]}`)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		var c provider.ChatCompletion
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &c))
		assert.Equal(t, model, c.Model, alias)
	}
	rec := post(t, p, `{"model":"slow","messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 400, rec.Code)
	msg, _, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "model_not_found", code)
	assert.Contains(t, msg, `"slow"`)
	assert.Contains(t, msg, "fast, gpt-4o, gpt-4o-mini, powerful")

	// Without a model, the balancer chooses among every target.
	served := map[string]int{}
	for range 4 {
		rec := post(t, p, hello)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		served[servedModel(t, rec.Body.Bytes())]++
	}
	assert.Equal(t, map[string]int{"gpt-4o": 2, "gpt-4o-mini": 2}, served)
}

func TestPassthroughModel(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "")}})
	rec := post(t, p, `{"model":"llama3.1:8b","messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Contains(t, string(up.Requests()[0].Body), `"model":"llama3.1:8b"`)
}

func TestStreaming(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.Reply = func(*provider.ChatRequest) string { return "one two three" }
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}})
	srv := httptest.NewServer(p)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count"}]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	require.Len(t, events, 7, string(body)) // role, 3 words, finish, usage, [DONE]
	for _, ev := range events {
		assert.True(t, strings.HasPrefix(ev, "data: "), ev)
	}
	assert.Equal(t, "data: [DONE]", events[6])
	assert.Contains(t, events[5], `"usage":{"prompt_tokens":`)
	text, err := aiproxytest.CompletionText(body)
	require.NoError(t, err)
	assert.Equal(t, "one two three", text)
}

func TestResponseStreaming(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	deny := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}, ResponseStreaming: "deny"})
	rec := post(t, deny, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 400, rec.Code)
	_, _, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "streaming_disabled", code)

	always := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}, ResponseStreaming: "always"})
	rec = post(t, always, `{"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
	assert.True(t, strings.HasSuffix(rec.Body.String(), "data: [DONE]\n\n"))
	assert.Contains(t, string(up.Requests()[0].Body), `"stream":true`)
}

func TestAuthInjection(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	t.Setenv("OPENAI_KEY", "sk-from-env")
	t.Setenv("PARAM_SECRET", "p-secret")
	tests := []struct {
		name   string
		auth   Auth
		header []string
		check  func(t *testing.T, r aiproxytest.Request)
	}{
		{"env reference, whole value", Auth{HeaderName: "Authorization", HeaderValue: "{vault://env/openai-key}"}, nil,
			func(t *testing.T, r aiproxytest.Request) {
				assert.Equal(t, "sk-from-env", r.Header.Get("Authorization"))
			}},
		{"reference inside a value", Auth{HeaderName: "Authorization", HeaderValue: "Bearer {vault://env/openai-key}"}, nil,
			func(t *testing.T, r aiproxytest.Request) {
				assert.Equal(t, "Bearer sk-from-env", r.Header.Get("Authorization"))
			}},
		{"configured header replaces the client's", Auth{HeaderName: "api-key", HeaderValue: "k1"}, []string{"Api-Key", "client"},
			func(t *testing.T, r aiproxytest.Request) { assert.Equal(t, []string{"k1"}, r.Header.Values("Api-Key")) }},
		{"allow_override keeps the client's", Auth{HeaderName: "Authorization", HeaderValue: "Bearer conf", AllowOverride: true}, []string{"Authorization", "Bearer mine"},
			func(t *testing.T, r aiproxytest.Request) {
				assert.Equal(t, "Bearer mine", r.Header.Get("Authorization"))
			}},
		{"allow_override without a client value", Auth{HeaderName: "Authorization", HeaderValue: "Bearer conf", AllowOverride: true}, nil,
			func(t *testing.T, r aiproxytest.Request) {
				assert.Equal(t, "Bearer conf", r.Header.Get("Authorization"))
			}},
		{"a target with a credential drops the client's", Auth{HeaderName: "api-key", HeaderValue: "k1"}, []string{"Authorization", "Bearer mine", "X-Api-Key", "xk", "X-Trace", "t1"},
			func(t *testing.T, r aiproxytest.Request) {
				assert.Empty(t, r.Header.Get("Authorization"))
				assert.Empty(t, r.Header.Get("X-Api-Key"))
				assert.Equal(t, "t1", r.Header.Get("X-Trace"), "other headers are forwarded")
			}},
		{"a query credential drops the client's headers too", Auth{ParamName: "key", ParamValue: "k1", ParamLocation: "query"}, []string{"Authorization", "Bearer mine"},
			func(t *testing.T, r aiproxytest.Request) { assert.Empty(t, r.Header.Get("Authorization")) }},
		{"a target without credentials passes the client's through", Auth{}, []string{"Authorization", "Bearer mine", "X-Api-Key", "xk", "Cookie", "c=1"},
			func(t *testing.T, r aiproxytest.Request) {
				assert.Equal(t, "Bearer mine", r.Header.Get("Authorization"))
				assert.Equal(t, "xk", r.Header.Get("X-Api-Key"))
				assert.Empty(t, r.Header.Get("Cookie"), "cookies never are")
			}},
		{"query param", Auth{ParamName: "key", ParamValue: "{vault://env/param-secret}", ParamLocation: "query"}, nil,
			func(t *testing.T, r aiproxytest.Request) { assert.Equal(t, "key=p-secret", r.RawQuery) }},
		{"body param", Auth{ParamName: "api_key", ParamValue: "b1", ParamLocation: "body"}, nil,
			func(t *testing.T, r aiproxytest.Request) { assert.Contains(t, string(r.Body), `"api_key":"b1"`) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := openaiTarget(up, "gpt-4o")
			tg.Auth = tt.auth
			p := newProxy(t, Config{Targets: []Target{tg}})
			rec := post(t, p, `{"messages":[{"role":"user","content":"hi"}]}`, tt.header...)
			require.Equal(t, 200, rec.Code, rec.Body.String())
			reqs := up.Requests()
			require.Len(t, reqs, i+1)
			tt.check(t, reqs[i])
		})
	}
}

func TestSecretErrorNamesReferenceOnly(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	tg := openaiTarget(up, "gpt-4o")
	tg.Auth = Auth{HeaderName: "Authorization", HeaderValue: "Bearer {vault://env/aiproxy-test-missing}"}
	p := newProxy(t, Config{Targets: []Target{tg}})
	rec := post(t, p, `{"messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	msg, _, _ := openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "{vault://env/aiproxy-test-missing}")
	assert.Empty(t, up.Requests())
}

func TestStatsHook(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	tg := openaiTarget(up, "gpt-4o")
	tg.Model.Options.InputCost, tg.Model.Options.OutputCost = 2.5, 10
	var got []Stats
	p := newProxy(t, Config{Targets: []Target{tg}, Hooks: onStats(func(s Stats) { got = append(got, s) })})
	rec := post(t, p, `{"messages":[{"role":"user","content":"What is 1+1?"}]}`)
	require.Equal(t, 200, rec.Code)
	require.Len(t, got, 1)
	s := got[0]
	assert.Equal(t, "openai/gpt-4o", s.Target)
	assert.Equal(t, "openai", s.Provider)
	assert.Equal(t, "gpt-4o", s.Model)
	assert.Equal(t, 200, s.Status)
	assert.Empty(t, s.Attempts)
	assert.NoError(t, s.Err)
	assert.Positive(t, s.Usage.TotalTokens)
	assert.InDelta(t, (float64(s.Usage.PromptTokens)*2.5+float64(s.Usage.CompletionTokens)*10)/1e6, s.Cost, 1e-12)
	assert.Positive(t, s.Latency)
}

// TestLogging: log_statistics logs one entry per request through Config.Logger;
// log_payloads adds the client's request (a body credential in it redacted) and the response sent to the
// client, streamed or not.
func TestLogging(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.Reply = func(*provider.ChatRequest) string { return "forty-two" }
	tg := openaiTarget(up, "gpt-4o")
	tg.Auth.ParamName, tg.Auth.ParamValue, tg.Auth.ParamLocation = "api_key", "body-key-0123456789", "body"
	tg.Logging = Logging{LogStatistics: true, LogPayloads: true}
	var out bytes.Buffer
	p := newProxy(t, Config{Targets: []Target{tg}, Logger: slog.New(slog.NewJSONHandler(&out, nil))})

	entry := func() map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(out.Bytes(), &m), out.String())
		out.Reset()
		return m
	}
	rec := post(t, p, `{"api_key":"client-key-0123456789","messages":[{"role":"user","content":"the answer?"}]}`)
	require.Equal(t, 200, rec.Code)
	e := entry()
	assert.Equal(t, "aiproxy request", e["msg"])
	assert.Equal(t, "openai/gpt-4o", e["target"])
	assert.Contains(t, e["request"], `"the answer?"`)
	assert.Contains(t, e["request"], `"api_key":"[redacted]"`)
	assert.NotContains(t, e["request"], "client-key-0123456789")
	assert.Equal(t, rec.Body.String(), e["response"], "the response as the client got it")

	rec = post(t, p, `{"stream":true,"messages":[{"role":"user","content":"the answer?"}]}`)
	require.Equal(t, 200, rec.Code)
	e = entry()
	assert.Equal(t, rec.Body.String(), e["response"], "the stream's events as the client got them")
	assert.Contains(t, e["response"], "data: [DONE]")

	tg.Logging.LogPayloads = false
	p = newProxy(t, Config{Targets: []Target{tg}, Logger: slog.New(slog.NewJSONHandler(&out, nil))})
	require.Equal(t, 200, post(t, p, `{"messages":[{"role":"user","content":"the answer?"}]}`).Code)
	e = entry()
	assert.NotContains(t, e, "request")
	assert.NotContains(t, e, "response")
}

// TestClientQueryForwarded: the client's query string reaches the upstream, as in Kong. The
// parameters of the target's own URL win; the auth query parameter replaces the client's
// unless allow_override lets the client's win.
func TestClientQueryForwarded(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	tests := []struct {
		name, url, query string
		auth             Auth
		want             string
	}{
		{"forwarded", up.ChatURL(), "trace=1&user=a%20b", Auth{}, "trace=1&user=a+b"},
		{"the target's URL wins", up.ChatURL() + "?api-version=2024-06-01", "api-version=1&x=1", Auth{}, "api-version=2024-06-01&x=1"},
		{"the auth parameter replaces the client's", up.ChatURL(), "key=mine&x=1",
			Auth{ParamName: "key", ParamValue: "conf", ParamLocation: "query"}, "key=conf&x=1"},
		{"allow_override keeps the client's", up.ChatURL(), "key=mine&x=1",
			Auth{ParamName: "key", ParamValue: "conf", ParamLocation: "query", AllowOverride: true}, "key=mine&x=1"},
		{"allow_override without a client value", up.ChatURL(), "x=1",
			Auth{ParamName: "key", ParamValue: "conf", ParamLocation: "query", AllowOverride: true}, "key=conf&x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := openaiTarget(up, "gpt-4o")
			tg.Auth, tg.Model.Options.UpstreamURL = tt.auth, tt.url
			p := newProxy(t, Config{Targets: []Target{tg}})
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions?"+tt.query, strings.NewReader(hello))
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			require.Equal(t, 200, rec.Code, rec.Body.String())
			reqs := up.Requests()
			assert.Equal(t, tt.want, reqs[len(reqs)-1].RawQuery)
		})
	}
}

// TestModelNameHeaderOff: model_name_header: false leaves X-Kong-LLM-Model out of answers
// and of upstream errors passed to the client.
func TestModelNameHeaderOff(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	off := false
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}, ModelNameHeader: &off})
	rec := post(t, p, hello)
	require.Equal(t, 200, rec.Code)
	assert.NotContains(t, rec.Header(), "X-Kong-Llm-Model")
	rec = post(t, p, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.Equal(t, 200, rec.Code)
	assert.NotContains(t, rec.Header(), "X-Kong-Llm-Model")
	up.Fail(400, 1, "")
	rec = post(t, p, hello)
	require.Equal(t, 400, rec.Code)
	assert.NotContains(t, rec.Header(), "X-Kong-Llm-Model")
}

// TestChunkedBodyTooLarge: a body without Content-Length is held to max_request_body_size as
// it is read: 413, and nothing reaches the upstream.
func TestChunkedBodyTooLarge(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := newProxy(t, Config{Targets: []Target{openaiTarget(up, "gpt-4o")}, MaxRequestBodySize: 256})
	srv := httptest.NewServer(p)
	defer srv.Close()
	send := func(body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", io.MultiReader(strings.NewReader(body)))
		require.NoError(t, err)
		req.ContentLength = -1 // unknown: the client sends the body chunked, without Content-Length
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := send(`{"messages":[{"role":"user","content":"` + strings.Repeat("x", 300) + `"}]}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	_, _, code := openaiError(t, b)
	assert.Equal(t, "request_too_large", code)
	assert.Empty(t, up.Requests())

	resp = send(hello) // under the limit, chunked too
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
