package aiproxy

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

	"github.com/aiproxy/aiproxy/provider"
)

// A gemini target with model.options.gemini.endpoint_id (Kong's Vertex AI endpoint, such as a
// Model Garden deployment) is the endpoint's OpenAI-compatible chat completions: the path
// under the project's location, the service account's token, the body without "model", the
// answer and the stream passed through.
func TestVertexEndpoint(t *testing.T) {
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"ya29.vertex","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer tokens.Close()
	sa := serviceAccount(t, "k1", tokens.URL)

	var bodies []map[string]any
	vertex := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/v1/projects/my-project/locations/europe-west4/endpoints/4567/chat/completions", r.URL.Path)
		assert.Equal(t, "Bearer ya29.vertex", r.Header.Get("Authorization"))
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(b, &body))
		bodies = append(bodies, body)
		if body["stream"] == true {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, ev := range []string{
				`{"id":"c2","object":"chat.completion.chunk","created":1,"model":"llama-3.3-70b","choices":[{"index":0,"delta":{"role":"assistant","content":"Bon"},"finish_reason":null}]}`,
				`{"id":"c2","object":"chat.completion.chunk","created":1,"model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"jour"},"finish_reason":"stop"}]}`,
			} {
				fmt.Fprintf(w, "data: %s\n\n", ev)
				w.(http.Flusher).Flush()
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"llama-3.3-70b","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`)
	}))
	defer vertex.Close()

	target := Target{
		Model: provider.Model{Provider: "gemini", Name: "llama-3.3-70b", Options: provider.Options{
			Gemini: &provider.GeminiOptions{APIEndpoint: vertex.URL, ProjectID: "my-project", LocationID: "europe-west4", EndpointID: "4567"}}},
		Auth: Auth{GCPUseServiceAccount: true, GCPServiceAccountJSON: Secret(sa)},
	}
	p := newProxy(t, Config{Targets: []Target{target}})

	rec := post(t, p, `{"model":"llama-3.3-70b","messages":[{"role":"user","content":"Say hello in French"}],"temperature":0.2}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"content":"Bonjour"`)
	require.Len(t, bodies, 1)
	assert.NotContains(t, bodies[0], "model", "an endpoint serves the one model deployed to it")
	assert.Equal(t, 0.2, bodies[0]["temperature"])

	rec = post(t, p, `{"model":"llama-3.3-70b","stream":true,"messages":[{"role":"user","content":"Say hello in French"}]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, 2, strings.Count(rec.Body.String(), `"object":"chat.completion.chunk"`))
	assert.Contains(t, rec.Body.String(), "data: [DONE]")

	// A Gemini client (llm_format gemini) is translated for it, not passed through: the
	// endpoint speaks OpenAI's API.
	g := newProxy(t, Config{LLMFormat: "gemini", Targets: []Target{target}})
	rec = httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1beta/models/llama-3.3-70b:generateContent",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"Say hello in French"}]}]}`)))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"text":"Bonjour"`)
	assert.Contains(t, rec.Body.String(), `"candidates"`)
	assert.NotContains(t, bodies[len(bodies)-1], "model")

	_, err := New(Config{Targets: []Target{{RouteType: provider.Embeddings, Model: provider.Model{Provider: "gemini", Name: "e",
		Options: provider.Options{Gemini: &provider.GeminiOptions{ProjectID: "p", EndpointID: "4567"}}}}}})
	require.ErrorContains(t, err, "a Vertex AI endpoint serves llm/v1/chat, not llm/v1/embeddings")
}
