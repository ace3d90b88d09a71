package aiproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// memVault is a secret.Resolver over a map of "<resource>/<key>" to values that counts its calls.
type memVault struct {
	mu     sync.Mutex
	values map[string]string
	calls  int
}

func (m *memVault) Resolve(_ context.Context, ref SecretRef) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	v, ok := m.values[ref.Resource+"/"+ref.Key]
	if !ok {
		return "", fmt.Errorf("no such secret: %w", secret.ErrNotFound)
	}
	return v, nil
}

func (m *memVault) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// secretConfig has a reference in every kind of place Kong allows one: whole header value,
// inside a header value, a query parameter, the embeddings' auth, and the Redis password.
func secretConfig(up *aiproxytest.OpenAI, v *memVault) Config {
	chat := func(model string, a Auth) Target {
		return Target{Model: provider.Model{Provider: "openai", Name: model, Options: provider.Options{UpstreamURL: up.ChatURL()}}, Auth: a}
	}
	return Config{
		Vaults: map[string]secret.Resolver{"mem": v},
		Targets: []Target{
			chat("whole", Auth{HeaderName: "Authorization", HeaderValue: "{vault://mem/openai/bearer}"}),
			chat("inside", Auth{HeaderName: "Authorization", HeaderValue: "Bearer {vault://mem/openai/key}"}),
			chat("param", Auth{ParamName: "key", ParamValue: "{vault://mem/gemini/key}"}),
		},
		Embeddings: &EmbeddingsConfig{
			Auth:  Auth{HeaderName: "Authorization", HeaderValue: "Bearer {vault://mem/openai/key}"},
			Model: EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small", Options: provider.Options{UpstreamURL: up.BaseURL() + "/embeddings"}},
		},
		VectorDB: &VectorDBConfig{Strategy: "redis", Store: &redisstore.Options{Password: "{vault://mem/redis/password}"}},
	}
}

func TestStrictSecrets(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	v := &memVault{values: map[string]string{
		"openai/bearer": "Bearer sk-whole", "openai/key": "sk-inside", "gemini/key": "g-key", "redis/password": "r-pass",
	}}
	cfg := secretConfig(up, v)
	cfg.StrictSecrets = true
	p := newProxy(t, cfg)
	assert.Equal(t, 4, v.Calls(), "each distinct reference is resolved once by New")

	delete(v.values, "openai/key")
	delete(v.values, "redis/password")
	_, err := New(cfg)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorIs(t, err, secret.ErrNotFound)
	for _, want := range []string{
		"targets[1].auth.header_value: aiproxy: resolving {vault://mem/openai/key}",
		"embeddings.auth.header_value: aiproxy: resolving {vault://mem/openai/key}",
		"vectordb.redis.password: aiproxy: resolving {vault://mem/redis/password}",
	} {
		assert.Contains(t, err.Error(), want)
	}
	for _, value := range []string{"sk-whole", "g-key"} {
		assert.NotContains(t, err.Error(), value)
	}
	assert.NotContains(t, err.Error(), "targets[0]", "fields that resolve are not reported")

	// The same check on demand, under the caller's context.
	err = p.ValidateSecrets(context.Background())
	assert.ErrorIs(t, err, secret.ErrNotFound)
	assert.Contains(t, err.Error(), "{vault://mem/openai/key}")
}

func TestLazySecrets(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	v := &memVault{values: map[string]string{"openai/bearer": "Bearer sk-whole", "gemini/key": "g-key"}}
	cfg := secretConfig(up, v)
	cfg.Balancer.Retries = -1
	p := newProxy(t, cfg) // openai/key and redis/password are missing: lazy New does not care
	assert.Zero(t, v.Calls(), "lazy New does no resolution")

	ask := func(model string) (int, string) {
		rec := post(t, p, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
		if rec.Code != http.StatusOK {
			msg, _, _ := openaiError(t, rec.Body.Bytes())
			return rec.Code, msg
		}
		return rec.Code, ""
	}
	status, _ := ask("whole")
	require.Equal(t, http.StatusOK, status)
	status, _ = ask("param")
	require.Equal(t, http.StatusOK, status)
	status, msg := ask("inside")
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, msg, "{vault://mem/openai/key}")

	reqs := up.Requests()
	require.Len(t, reqs, 2, "the request whose secret is missing never reaches the upstream")
	assert.Equal(t, "Bearer sk-whole", reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "key=g-key", reqs[1].RawQuery)

	// The key appears in Vault: the next request uses it, without a restart.
	v.mu.Lock()
	v.values["openai/key"] = "sk-inside"
	v.mu.Unlock()
	status, _ = ask("inside")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Bearer sk-inside", up.Requests()[2].Header.Get("Authorization"))
}

// AWS credentials in auth may be references too: the signature is made with the resolved keys.
func TestSigningCredentialReferences(t *testing.T) {
	var mu sync.Mutex
	var authz []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authz = append(authz, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, `{"message":"stop here"}`, http.StatusBadRequest)
	}))
	defer up.Close()
	v := &memVault{values: map[string]string{"aws/id": "AKIDFROMVAULT", "aws/secret": "secret-from-vault"}}
	bedrock := func(secret Secret) Target {
		return Target{
			Model: provider.Model{Provider: "bedrock", Name: "anthropic.claude-3-haiku", Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}, UpstreamURL: up.URL}},
			Auth:  Auth{AWSAccessKeyID: "{vault://mem/aws/id}", AWSSecretAccessKey: secret},
		}
	}
	p := newProxy(t, Config{Vaults: map[string]secret.Resolver{"mem": v}, Targets: []Target{bedrock("{vault://mem/aws/secret}")}})
	post(t, p, `{"messages":[{"role":"user","content":"hi"}]}`)
	require.Len(t, authz, 1)
	assert.Contains(t, authz[0], "Credential=AKIDFROMVAULT/")

	p = newProxy(t, Config{Vaults: map[string]secret.Resolver{"mem": v}, Targets: []Target{bedrock("{vault://mem/aws/missing}")}})
	rec := post(t, p, `{"messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	msg, _, _ := openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "{vault://mem/aws/missing}")
	assert.Len(t, authz, 1, "nothing is sent without the secret")
}

func TestResolveSeveralReferences(t *testing.T) {
	t.Setenv("AIPROXY_TEST_REDIS_USER", "default")
	v := &memVault{values: map[string]string{"redis/password": "r-pass"}}
	vaults := map[string]secret.Resolver{"mem": v}
	got, err := secret.NewVaults(vaults).Expand(context.Background(), "{vault://mem/redis/password}")
	require.NoError(t, err)
	assert.Equal(t, "r-pass", got)
	got, err = secret.NewVaults(vaults).Expand(context.Background(), "{vault://env/aiproxy-test-redis-user}:{vault://mem/redis/password}")
	require.NoError(t, err)
	assert.Equal(t, "default:r-pass", got, "env is built in; several references in one value")
	_, err = secret.NewVaults(vaults).Expand(context.Background(), "{vault://mem/redis/nope}")
	assert.ErrorIs(t, err, secret.ErrNotFound)
	assert.Contains(t, err.Error(), "{vault://mem/redis/nope}")
	_, err = secret.NewVaults(vaults).Expand(context.Background(), "{vault://other/x/y}")
	assert.Contains(t, err.Error(), `no vault named "other"`)
}
