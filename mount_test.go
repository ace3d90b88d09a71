package aiproxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/kong"
)

// seed004 loads seed 004's decK file unchanged, with the upstream pointed at a fake OpenAI.
func seed004(t *testing.T) (*aiproxy.Proxy, *aiproxytest.OpenAI) {
	t.Helper()
	up := aiproxytest.NewOpenAI()
	t.Cleanup(up.Close)
	up.APIKey = "sk-seed-004"
	env := map[string]string{"DECK_OPENAI_API_KEY": up.APIKey}
	f, err := kong.ParseFile("kong/testdata/seed004-deck.yaml", kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	cfg := f.Plugins[0].Config
	for i := range cfg.Targets { // the only change: where "openai" is
		cfg.Targets[i].Model.Options.UpstreamURL = up.ChatURL()
	}
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p, up
}

func askModel(t *testing.T, url, model string) string {
	t.Helper()
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"What is 1+1?"}]}`
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var c struct{ Model string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
	return c.Model
}

func TestMountServeMux(t *testing.T) {
	p, up := seed004(t)
	mux := http.NewServeMux()
	mux.Handle("POST /anything", p)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	assert.Equal(t, "gpt-4o", askModel(t, srv.URL+"/anything", "powerful"))
	assert.Equal(t, "gpt-4o-mini", askModel(t, srv.URL+"/anything", "fast"))
	for _, r := range up.Requests() {
		assert.Equal(t, "Bearer sk-seed-004", r.Header.Get("Authorization"))
	}
}

func TestMountChi(t *testing.T) {
	p, up := seed004(t)
	r := chi.NewRouter()
	r.Route("/v1", func(r chi.Router) { r.Method(http.MethodPost, "/chat/completions", p) })
	srv := httptest.NewServer(r)
	defer srv.Close()
	assert.Equal(t, "gpt-4o", askModel(t, srv.URL+"/v1/chat/completions", "powerful"))
	assert.Equal(t, "gpt-4o-mini", askModel(t, srv.URL+"/v1/chat/completions", "fast"))
	require.Len(t, up.Requests(), 2)
	for _, r := range up.Requests() {
		assert.Equal(t, "Bearer sk-seed-004", r.Header.Get("Authorization"), "the seed's key, from DECK_OPENAI_API_KEY")
	}
}

func TestOpenAIGoClientAliases(t *testing.T) {
	p, up := seed004(t)
	client := openai.NewClient(
		option.WithHTTPClient(&http.Client{Transport: p}),
		option.WithAPIKey("sk-client-side-key-never-sent"),
		option.WithMaxRetries(0),
	)
	ctx := context.Background()
	for alias, model := range map[string]string{"powerful": "gpt-4o", "fast": "gpt-4o-mini"} {
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    alias,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 1+1?")},
		})
		require.NoError(t, err)
		assert.Equal(t, model, c.Model)
		assert.Equal(t, "Hello from "+model, c.Choices[0].Message.Content)
	}

	// Streaming through the SDK.
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "fast",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 1+1?")},
	})
	var text strings.Builder
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, "Hello from gpt-4o-mini", text.String())

	// An unknown alias is an API error the SDK reports, with the proxy's message.
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "slow", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "model_not_found", apiErr.Code)
	assert.Contains(t, apiErr.Message, `"slow"`)

	for _, r := range up.Requests() {
		assert.Equal(t, "Bearer sk-seed-004", r.Header.Get("Authorization"), "the configured key replaces the SDK's")
	}
}
