package aiproxy_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/kong"
	"github.com/aiproxy/aiproxy/vault"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// requireEnv returns the variable that scripts/services.sh exports, and fails the test without it.
func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: this test needs the real servers. Run ./scripts/test.sh, or `. scripts/services.sh` in bash and then go test.", name)
	}
	return v
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// putVault writes data at <mount>/<path> (KV v2) in the dev Vault, as `vault kv put` does.
func putVault(t *testing.T, mount, path string, data map[string]any) {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: requireEnv(t, "VAULT_ADDR")})
	require.NoError(t, err)
	c.SetToken(requireEnv(t, "VAULT_TOKEN"))
	_, err = c.KVv2(mount).Put(context.Background(), path, data)
	require.NoError(t, err)
}

// textEmbedding3Small stands in for OpenAI's text-embedding-3-small in the fake: the offline
// embedder's vectors, zero-padded to the 1536 dimensions that model returns by default (the
// seed's vectordb.dimensions). Padding changes no cosine distance.
func textEmbedding3Small(t *testing.T) func(inputs []string, dims int) [][]float32 {
	e := offline.New()
	return func(inputs []string, dims int) [][]float32 {
		if dims == 0 {
			dims = 1536
		}
		vecs, err := e.Embed(context.Background(), inputs)
		require.NoError(t, err)
		for i, v := range vecs {
			vecs[i] = append(v, make([]float32, dims-len(v))...)
		}
		return vecs
	}
}

// seed000 is seed 000 running: its decK file unchanged, with the Vault entity of the tutorial it
// builds on, the real Vault holding openai/key and mistral/key where that entity says (KV v2 at
// secret/), the real Redis as its vector database, and fakes of OpenAI (chat and embeddings)
// and Mistral that accept only their own key.
type seed000 struct {
	proxy           *aiproxy.Proxy
	openai, mistral *aiproxytest.OpenAI
	openaiKey       string
	mistralKey      string
}

func newSeed000(t *testing.T, strict bool) *seed000 {
	t.Helper()
	vaultURL, err := url.Parse(requireEnv(t, "VAULT_ADDR"))
	require.NoError(t, err)
	vaultPort, err := strconv.Atoi(vaultURL.Port())
	require.NoError(t, err)
	redisHost, redisPortText, err := net.SplitHostPort(requireEnv(t, "AIPROXY_REDIS8_ADDR"))
	require.NoError(t, err)
	redisPort, err := strconv.Atoi(redisPortText)
	require.NoError(t, err)

	s := &seed000{openaiKey: "sk-openai-" + randHex(12), mistralKey: "mistral-" + randHex(12)}
	// As in the tutorial: vault kv put secret/openai key="Bearer …"; the whole header value is stored.
	putVault(t, "secret", "openai", map[string]any{"key": "Bearer " + s.openaiKey})
	putVault(t, "secret", "mistral", map[string]any{"key": "Bearer " + s.mistralKey})

	s.openai, s.mistral = aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	t.Cleanup(s.openai.Close)
	t.Cleanup(s.mistral.Close)
	s.openai.APIKey, s.mistral.APIKey = s.openaiKey, s.mistralKey
	s.openai.Embed = textEmbedding3Small(t)

	seed, err := os.ReadFile("kong/testdata/seed000-deck.yaml")
	require.NoError(t, err)
	entity, err := os.ReadFile("kong/testdata/hcv-llm-providers-entities.yaml")
	require.NoError(t, err)
	env := map[string]string{
		"DECK_DECK_REDIS_HOST": redisHost,
		"HCV_HOST":             vaultURL.Hostname(),
		"HCV_TOKEN":            requireEnv(t, "VAULT_TOKEN"),
	}
	f, err := kong.Load(append(append(seed, "\n---\n"...), entity...), kong.LoadOptions{
		Options: kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
		// The tutorial's Vault listens on 8200; the tests' dev server on VAULT_ADDR's port.
		ConfigureVault: func(_ string, c *vault.Config) { c.Port = vaultPort },
	})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	require.Len(t, f.Plugins, 1)
	cfg := f.Plugins[0].Config

	// Only where the servers listen changes: the upstreams are fakes, Redis is the test's.
	cfg.Embeddings.Model.Options.UpstreamURL = s.openai.BaseURL() + "/embeddings"
	require.Len(t, cfg.Targets, 3)
	cfg.Targets[0].Model.Options.UpstreamURL = s.openai.ChatURL()
	cfg.Targets[1].Model.Options.UpstreamURL = s.openai.ChatURL()
	require.Equal(t, "https://api.mistral.ai/v1/chat/completions", cfg.Targets[2].Model.Options.UpstreamURL)
	cfg.Targets[2].Model.Options.UpstreamURL = s.mistral.ChatURL()
	store, err := redisstore.New(context.Background(), redisstore.Options{
		Host: cfg.VectorDB.Store.(*redisstore.Options).Host, Port: redisPort, Dimensions: cfg.VectorDB.Dimensions,
		Metric: cfg.VectorDB.DistanceMetric, Namespace: "aiproxy-test-seed000-" + randHex(4),
	})
	require.NoError(t, err)
	cfg.VectorStore = store
	cfg.StrictSecrets = strict

	s.proxy, err = aiproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.proxy.Close() })
	return s
}

// ask posts one of the tutorial's prompts to /anything, as its curl commands do, and returns
// the status and the model that answered.
func (s *seed000) ask(t *testing.T, url, prompt string) (int, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"messages": []map[string]string{{"role": "user", "content": prompt}}})
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var c struct{ Model string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
	return resp.StatusCode, c.Model
}

func TestVaultKeysEndToEnd(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run("strict="+strconv.FormatBool(strict), func(t *testing.T) {
			s := newSeed000(t, strict)
			mux := http.NewServeMux()
			mux.Handle("POST /anything", s.proxy)
			srv := httptest.NewServer(mux)
			defer srv.Close()

			for prompt, model := range map[string]string{
				"How can I build a REST API using Flask?": "gpt-3.5-turbo",
				"How can you effectively debug asynchronous code in JavaScript to identify where a Promise or callback might be failing?": "gpt-3.5-turbo",
				"What is the derivative of sin(x)?":                "gpt-4o",
				"Explain me Gödel`s incompleteness theorem.":       "gpt-4o",
				"What is Wulfila Bible?":                           "mistral-tiny",
				"Who was Edward Gibbon and what he is famous for?": "mistral-tiny",
			} {
				status, got := s.ask(t, srv.URL+"/anything", prompt)
				require.Equal(t, http.StatusOK, status, prompt)
				assert.Equal(t, model, got, prompt)
			}

			var chat, embeddings int
			for _, r := range s.openai.Requests() {
				assert.Equal(t, "Bearer "+s.openaiKey, r.Header.Get("Authorization"), r.Path)
				if strings.HasSuffix(r.Path, "/embeddings") {
					embeddings++
				} else {
					chat++
				}
			}
			assert.Equal(t, 4, chat, "programming and mathematics prompts reach OpenAI")
			assert.Positive(t, embeddings, "the embeddings request carries the OpenAI key from Vault")
			mistral := s.mistral.Requests()
			require.Len(t, mistral, 2, "general prompts reach the CATCHALL, Mistral")
			for _, r := range mistral {
				assert.Equal(t, "Bearer "+s.mistralKey, r.Header.Get("Authorization"))
			}
		})
	}
}
