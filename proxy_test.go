package aiproxy

import (
	"bytes"
	"encoding/json"
	"io"
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
