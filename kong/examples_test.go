package kong

import (
	"encoding/json"
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

// An example file of Kong's documentation loads: its variables fill the ${name} placeholders
// of its config, and the plugin's template variables survive for aiproxy.New to resolve per
// request. Served under a ServeMux pattern that captures the model, it sends the path's model.
func TestDocsExampleDynamicModel(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.APIKey = "sk-docs"
	vars := map[string]string{"DOCS_OPENAI_KEY": up.APIKey, "DOCS_OPENAI_URL": up.ChatURL()}
	f, err := ParseFile("testdata/docs-example-dynamic-model.yaml", Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	require.NoError(t, err)
	require.Len(t, f.Plugins, 1)
	cfg := f.Plugins[0].Config
	assert.Equal(t, "config", f.Plugins[0].Path)
	assert.Equal(t, "$(uri_captures.model)", cfg.Targets[0].Model.Name)
	assert.Equal(t, aiproxy.Secret("Bearer sk-docs"), cfg.Targets[0].Auth.HeaderValue)

	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	defer p.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /{model}/chat/completions", p)
	req := httptest.NewRequest(http.MethodPost, "/gpt-4o/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var sent struct{ Model string }
	require.NoError(t, json.Unmarshal(up.Requests()[0].Body, &sent))
	assert.Equal(t, "gpt-4o", sent.Model)

	// A variable the environment lacks is named.
	_, err = ParseFile("testdata/docs-example-dynamic-model.yaml", Options{LookupEnv: func(string) (string, bool) { return "", false }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environment variable DOCS_OPENAI_KEY is not set (variables.openai_key)")
}

func TestDocsExampleAzureDeployments(t *testing.T) {
	f, err := ParseFile("testdata/docs-example-azure-deployments.yaml", Options{LookupEnv: func(k string) (string, bool) { return "azure-key", k == "DOCS_AZURE_KEY" }})
	require.NoError(t, err)
	m := f.Plugins[0].Config.Targets[0].Model
	assert.Equal(t, provider.Model{Provider: "azure", Name: "$(uri_captures.deployment)", Options: provider.Options{
		AzureInstance: "acme-openai", AzureDeploymentID: `$(uri_captures["deployment"])`, AzureAPIVersion: "2024-10-21"}}, m)
	p, err := aiproxy.New(f.Plugins[0].Config)
	require.NoError(t, err)
	p.Close()
}

// genai_category audio/speech loads and serves, with Kong's meaning (the targets serve speech).
func TestDocsExampleAudioSpeech(t *testing.T) {
	f, err := ParseFile("testdata/docs-example-audio-speech.yaml", Options{LookupEnv: lookup})
	require.NoError(t, err)
	cfg := f.Plugins[0].Config
	assert.Equal(t, "audio/speech", cfg.GenAICategory)
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	p.Close()

	// A category whose route types the targets do not serve is named with both.
	cfg.Targets[0].RouteType = provider.Chat
	_, err = aiproxy.New(cfg)
	require.ErrorIs(t, err, aiproxy.ErrInvalidConfig)
	assert.Contains(t, err.Error(), `targets[0]: route_type "llm/v1/chat" is not of genai_category audio/speech, whose route types are audio/v1/audio/speech`)
}

// Kong 3.14's acls block decodes into aiproxy.ACLs and routes as Kong's rules say.
func TestACLsFromDeck(t *testing.T) {
	f := parse(t, "acls-deck.yaml")
	acls := f.Plugins[0].Config.ACLs
	require.NotNil(t, acls)
	assert.Equal(t, []aiproxy.ACLRule{
		{Match: []aiproxy.ACLCondition{{Type: "consumer_group", Key: "name", Values: []string{"gold", "platinum"}}}},
		{Match: []aiproxy.ACLCondition{{Type: "ip", Values: []string{"10.0.0.0/8"}}, {Type: "path", Values: []string{"/internal/v1/chat/completions"}}}},
	}, acls.Allow)
	assert.Equal(t, aiproxy.ACLCondition{Type: "header", Key: "X-Env", Values: []string{"test"}}, acls.Deny[1].Match[0])

	cfg := f.Plugins[0].Config
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	for i := range cfg.Targets {
		cfg.Targets[i].Model.Options.UpstreamURL = up.ChatURL()
	}
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	defer p.Close()
	send := func(path, remote string, groups ...string) int {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		req.RemoteAddr = remote
		if groups != nil {
			var gs []aiproxy.ConsumerGroup
			for _, g := range groups {
				gs = append(gs, aiproxy.ConsumerGroup{Name: g})
			}
			req = req.WithContext(aiproxy.WithConsumer(req.Context(), aiproxy.Consumer{Username: "u"}, gs...))
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, 200, send("/v1/chat/completions", "192.0.2.1:1", "gold"))
	assert.Equal(t, 403, send("/v1/chat/completions", "192.0.2.1:1", "silver"))
	assert.Equal(t, 200, send("/internal/v1/chat/completions", "10.1.2.3:1"))
	assert.Equal(t, 403, send("/internal/v1/chat/completions", "192.0.2.1:1"))
}

// A bad rule is reported by path at Parse where Kong's schema types it, and at New otherwise.
func TestACLsDecodeErrors(t *testing.T) {
	_, err := Parse([]byte(`targets: [{route_type: llm/v1/chat, model: {provider: openai}}]
acls:
  allow:
  - match: [{type: ip, values: 10.0.0.1, kye: x}]
`), Options{LookupEnv: lookup})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "acls.allow[0].match[0].kye: unknown field (did you mean key?)")
	assert.Contains(t, err.Error(), `acls.allow[0].match[0].values: expected an array, got the string "10.0.0.1"`)
}
