package aiproxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// fakeAnthropic answers like Anthropic's Messages API when it is overloaded: HTTP 529 with
// an overloaded_error body.
func fakeAnthropic(t *testing.T, hits *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		assert.Equal(t, "/v1/messages", r.URL.Path)
		assert.Equal(t, "sk-ant", r.Header.Get("X-Api-Key"))
		assert.Equal(t, "2023-06-01", r.Header.Get("Anthropic-Version"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(529)
		io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeGemini answers like the Gemini API: 503 UNAVAILABLE when fail is set, else a
// streamGenerateContent?alt=sse stream.
func fakeGemini(t *testing.T, fail bool, hits *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		assert.Equal(t, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", r.URL.Path)
		assert.Equal(t, "alt=sse", r.URL.RawQuery)
		assert.Equal(t, "g-key", r.Header.Get("X-Goog-Api-Key"))
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i, text := range []string{"Hello", " from", " Gemini"} {
			finish := ""
			usage := ""
			if i == 2 {
				finish = `,"finishReason":"STOP"`
				usage = `,"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}`
			}
			fmt.Fprintf(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":%q}],\"role\":\"model\"}%s,\"index\":0}]%s,\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"r1\"}\r\n\r\n", text, finish, usage)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func crossProviderProxy(t *testing.T, anthropicURL, geminiURL, openaiURL string) *aiproxy.Proxy {
	t.Helper()
	p, err := aiproxy.New(aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{
			Algorithm:        aiproxy.Priority,
			FailoverCriteria: []string{"error", "timeout", "http_429", "http_503", "non_idempotent"},
		},
		Targets: []aiproxy.Target{
			{Weight: 30, Model: provider.Model{Provider: "anthropic", Name: "claude-sonnet-4-5", Options: provider.Options{UpstreamURL: anthropicURL + "/v1/messages"}},
				Auth: aiproxy.Auth{HeaderName: "x-api-key", HeaderValue: "sk-ant"}},
			{Weight: 20, Model: provider.Model{Provider: "gemini", Name: "gemini-2.0-flash", Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: geminiURL}}},
				Auth: aiproxy.Auth{HeaderName: "x-goog-api-key", HeaderValue: "g-key"}},
			{Weight: 10, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: openaiURL}}},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func streamThrough(t *testing.T, p http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(
		`{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// checkOpenAIStream asserts body is one clean OpenAI stream: data events of
// chat.completion.chunk objects of one id and model, then data: [DONE].
func checkOpenAIStream(t *testing.T, body, model string) {
	t.Helper()
	events := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
	require.Equal(t, "data: [DONE]", events[len(events)-1], body)
	var chunks []provider.ChatChunk
	for _, ev := range events[:len(events)-1] {
		data, ok := strings.CutPrefix(ev, "data: ")
		require.True(t, ok, ev)
		var c provider.ChatChunk
		require.NoError(t, jsonUnmarshal(data, &c), ev)
		assert.Equal(t, "chat.completion.chunk", c.Object)
		assert.Equal(t, model, c.Model)
		chunks = append(chunks, c)
	}
	for _, c := range chunks {
		assert.Equal(t, chunks[0].ID, c.ID, "one stream, one id")
	}
	last := chunks[len(chunks)-1]
	require.NotNil(t, last.Usage, "usage in the last chunk, as asked")
	assert.Positive(t, last.Usage.TotalTokens)
}

func TestFailoverAcrossProviders(t *testing.T) {
	var anthropicHits, geminiHits int
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p := crossProviderProxy(t, fakeAnthropic(t, &anthropicHits).URL, fakeGemini(t, true, &geminiHits).URL, up.ChatURL())

	body := streamThrough(t, p)
	assert.Equal(t, 1, anthropicHits)
	assert.Equal(t, 1, geminiHits)
	text, err := aiproxytest.CompletionText([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "Hello from gpt-4o", text)
	checkOpenAIStream(t, body, "gpt-4o")

	// The same request, with Gemini up, is served by Gemini, translated to OpenAI's stream.
	p = crossProviderProxy(t, fakeAnthropic(t, &anthropicHits).URL, fakeGemini(t, false, &geminiHits).URL, up.ChatURL())
	body = streamThrough(t, p)
	text, err = aiproxytest.CompletionText([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "Hello from Gemini", text)
	checkOpenAIStream(t, body, "gemini-2.0-flash")
	assert.Len(t, up.Requests(), 1, "OpenAI served only the first request")
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
