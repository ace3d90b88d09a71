package aiproxy_test

import (
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

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/kong"
	"github.com/aiproxy/aiproxy/secret"
)

// seedEnv is what the seeds' decK templates and documentation variables read.
var seedEnv = map[string]string{"DECK_DECK_REDIS_HOST": "127.0.0.1", "DECK_REDIS_HOST": "127.0.0.1", "DECK_OPENAI_API_KEY": "sk-seed-002"}

// The keys the test vault hands out for the seeds' {vault://hashicorp-vault/...} references.
const (
	openaiKey  = "sk-openai-from-vault"
	mistralKey = "mistral-from-vault"
)

var testVault = secret.ResolverFunc(func(_ context.Context, ref aiproxy.SecretRef) (string, error) {
	switch ref.Resource + "/" + ref.Key {
	case "openai/key":
		return "Bearer " + openaiKey, nil
	case "mistral/key":
		return "Bearer " + mistralKey, nil
	}
	return "", secret.ErrNotFound
})

// seedConfig loads a seed's Kong file unchanged, then swaps what a test must: the offline
// embedder for OpenAI's, fake upstreams for OpenAI and Mistral, a test vault for HashiCorp
// Vault, and the store.
func seedConfig(t *testing.T, file string, store storeCase, ns string, upstreams map[string]*aiproxytest.OpenAI) aiproxy.Config {
	t.Helper()
	f, err := kong.ParseFile("kong/testdata/"+file, kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := seedEnv[k]; return v, ok }})
	require.NoError(t, err)
	require.Len(t, f.Plugins, 1)
	cfg := f.Plugins[0].Config
	cfg.Embedder = offline.New()
	cfg.Vaults = map[string]secret.Resolver{"hashicorp-vault": testVault}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range cfg.Targets {
		up := upstreams[cfg.Targets[i].Model.Name]
		require.NotNil(t, up, "no fake upstream for %s", cfg.Targets[i].Model.Name)
		cfg.Targets[i].Model.Options.UpstreamURL = up.ChatURL()
	}
	store.use(t, &cfg, ns)
	return cfg
}

func newSeedProxy(t *testing.T, cfg aiproxy.Config) *aiproxy.Proxy {
	t.Helper()
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return p
}

// fakes starts one fake upstream per model name; OpenAI's require the OpenAI key from the
// vault, Mistral's the Mistral key.
func fakes(t *testing.T, models ...string) map[string]*aiproxytest.OpenAI {
	out := map[string]*aiproxytest.OpenAI{}
	for _, m := range models {
		f := aiproxytest.NewOpenAI()
		t.Cleanup(f.Close)
		f.APIKey = openaiKey
		if strings.HasPrefix(m, "mistral") {
			f.APIKey = mistralKey
		}
		out[m] = f
	}
	return out
}

// chat sends prompt as the last user message through the Handler, as the seeds' curl does.
func chat(t *testing.T, h http.Handler, prompt string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"messages": []map[string]string{{"role": "user", "content": prompt}}})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/anything", strings.NewReader(string(body))))
	var resp struct{ Model string }
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	return rec, resp.Model
}

type seedPrompt struct{ prompt, model string }

// The validation prompts of seeds 000 and 001 (the same page, rendered and in source) and 003.
var (
	seed000Prompts = []seedPrompt{
		{"How can I build a REST API using Flask?", "gpt-3.5-turbo"},
		{"How can you effectively debug asynchronous code in JavaScript to identify where a Promise or callback might be failing?", "gpt-3.5-turbo"},
		{"What is the derivative of sin(x)?", "gpt-4o"},
		{"Explain me Gödel`s incompleteness theorem.", "gpt-4o"},
		{"What is Wulfila Bible?", "mistral-tiny"},
		{"Who was Edward Gibbon and what he is famous for?", "mistral-tiny"},
	}
	seed003Prompts = []seedPrompt{
		{"How do I build a REST API using Flask?", "gpt-3.5-turbo"},
		{"What does the `map()` function do in Python?", "gpt-3.5-turbo"},
		{"What's the derivative of sin(x)?", "gpt-4o"},
		{"What's the Fermat's last theorem?", "gpt-4o"},
		{"What's the capital of Argentina?", "mistral-tiny"},
		{"Tell me a fun fact about dolphins", "mistral-tiny"},
	}
)

// TestSeedValidationPrompts: the 12 validation prompts of seeds 000, 001 and 003 route as
// the seeds say, with the seeds' own descriptions and threshold, on every store.
func TestSemanticRoutesKongPrompts(t *testing.T) {
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			for _, seed := range []struct {
				file    string
				prompts []seedPrompt
			}{
				{"seed000-deck.yaml", seed000Prompts},
				{"seed001-entities.yaml", seed000Prompts},
				{"seed003-entities.yaml", seed003Prompts},
			} {
				t.Run(seed.file, func(t *testing.T) {
					ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
					p := newSeedProxy(t, seedConfig(t, seed.file, store, newNamespace(), ups))
					for _, sp := range seed.prompts {
						rec, model := chat(t, p, sp.prompt)
						require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
						assert.Equal(t, sp.model, model, sp.prompt)
						assert.Equal(t, sp.model != "mistral-tiny", rec.Header().Get(aiproxy.HeaderSemanticMatched) == "true", sp.prompt)
						assert.NotEmpty(t, rec.Header().Get(aiproxy.HeaderSemanticDistance))
					}
					for model, up := range ups {
						for _, r := range up.Requests() {
							assert.Contains(t, string(r.Body), `"model":"`+model+`"`)
						}
					}
				})
			}
		})
	}
}

// TestSemanticFailoverInsideTheGroup (seed 002): the programming group's weight-75 target (gpt-4o) is
// tried first; it answers 503, and the request lands on the weight-25 target (gpt-4o-mini).
func TestSemanticFailoverInsideTheGroup(t *testing.T) {
	const prompt = "My Python program crashes with a TypeError when my JavaScript code calls the API: how do I debug it?"
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			programming := aiproxytest.NewOpenAI() // gpt-4o, weight 75
			mini := aiproxytest.NewOpenAI()        // gpt-4o-mini, weight 25
			realLife := aiproxytest.NewOpenAI()    // gpt-4o, weight 2
			for _, f := range []*aiproxytest.OpenAI{programming, mini, realLife} {
				f.APIKey = seedEnv["DECK_OPENAI_API_KEY"]
				t.Cleanup(f.Close)
			}
			f, err := kong.ParseFile("kong/testdata/seed002-deck-global.yaml", kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := seedEnv[k]; return v, ok }})
			require.NoError(t, err)
			cfg := f.Plugins[0].Config
			cfg.Embedder = offline.New()
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			for i, up := range []*aiproxytest.OpenAI{realLife, programming, mini} {
				cfg.Targets[i].Model.Options.UpstreamURL = up.ChatURL()
			}
			store.use(t, &cfg, newNamespace())
			p := newSeedProxy(t, cfg)

			d, err := p.Explain(context.Background(), prompt)
			require.NoError(t, err)
			require.True(t, d.Matched, "precondition: the prompt matches within seed 002's threshold: %+v", d)
			require.Equal(t, "Specialist in programming problems", d.Description)

			programming.Fail(http.StatusServiceUnavailable, 1, "")
			rec, model := chat(t, p, prompt)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "gpt-4o-mini", model)
			assert.Len(t, programming.Requests(), 1, "the weight-75 target is tried first")
			assert.Len(t, mini.Requests(), 1)
			assert.Empty(t, realLife.Requests())
		})
	}
}
