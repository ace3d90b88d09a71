package aiproxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// TestInvalidConfig: New refuses what Kong's schema refuses, and what aiproxy cannot honour,
// with an error naming the field.
func TestInvalidConfig(t *testing.T) {
	ok := func() Target {
		return Target{Model: provider.Model{Provider: "openai", Name: "gpt-4o"}}
	}
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no targets", func(c *Config) { c.Targets = nil }, "target"},
		{"no provider", func(c *Config) { c.Targets[0].Model.Provider = "" }, "model.provider is required"},
		{"weight", func(c *Config) { c.Targets[0].Weight = 70000 }, "weight 70000"},
		{"temperature", func(c *Config) { c.Targets[0].Model.Options.Temperature = f(6) }, "model.options.temperature"},
		{"top_p", func(c *Config) { c.Targets[0].Model.Options.TopP = f(1.5) }, "model.options.top_p"},
		{"param_location", func(c *Config) { c.Targets[0].Auth.ParamLocation = "cookie" }, "auth.param_location"},
		{"header pair", func(c *Config) { c.Targets[0].Auth.HeaderName = "Authorization" }, "auth.header_name and auth.header_value"},
		{"bad reference", func(c *Config) {
			c.Targets[0].Auth.HeaderName, c.Targets[0].Auth.HeaderValue = "Authorization", "{vault://only}"
		}, "invalid secret reference"},
		{"bad embeddings reference", func(c *Config) {
			c.Balancer.Algorithm = Semantic
			c.Targets[0].Description = "anything"
			c.Embeddings = &EmbeddingsConfig{Auth: Auth{HeaderName: "Authorization", HeaderValue: "Bearer {vault://hcv}"},
				Model: EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small"}}
		}, "embeddings.auth.header_value: invalid secret reference"},
		{"unknown vault", func(c *Config) {
			c.Targets[0].Auth.HeaderName, c.Targets[0].Auth.HeaderValue = "Authorization", "{vault://hashicorp-vualt/openai/key}"
		}, `targets[0].auth.header_value: {vault://hashicorp-vualt/openai/key} names vault "hashicorp-vualt", which is not configured`},
		{"unknown vault in the store's password", func(c *Config) {
			c.Balancer.Algorithm = Semantic
			c.Targets[0].Description = "anything"
			c.VectorDB = &VectorDBConfig{Strategy: "redis", Store: &redisstore.Options{Password: "{vault://nope/redis/password}"}}
		}, `names vault "nope"`},
		{"gemini endpoint_id without a project", func(c *Config) {
			c.Targets[0].Model.Options.Gemini = &provider.GeminiOptions{EndpointID: "123"}
		}, "gemini.endpoint_id needs project_id"},
		{"bedrock video", func(c *Config) {
			c.Targets[0].Model.Options.Bedrock = &provider.BedrockOptions{VideoOutputS3URI: "s3://b/v"}
		}, "video_output_s3_uri is not supported"},
		{"llm_format", func(c *Config) { c.LLMFormat = "mistral" }, `llm_format "mistral"`},
		{"algorithm", func(c *Config) { c.Balancer.Algorithm = "random" }, "random"},
		{"unknown provider", func(c *Config) { c.Targets[0].Model.Provider = "acme" }, `model.provider "acme" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Targets: []Target{ok()}}
			tt.edit(&cfg)
			_, err := New(cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	p, err := New(Config{Targets: []Target{ok()}})
	require.NoError(t, err, "the valid base config")
	require.NoError(t, p.Close())
}

// closeCounter is a secret.Resolver that counts Close calls.
type closeCounter struct {
	secret.EnvResolver
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// TestFailedNewClosesNothing: a config New refuses leaves the caller's resolvers open, so they
// can serve the corrected config; a Proxy that New returned closes them.
func TestFailedNewClosesNothing(t *testing.T) {
	v := &closeCounter{}
	cfg := Config{Vaults: map[string]secret.Resolver{"mine": v}, Targets: []Target{{Model: provider.Model{Provider: "acme"}}}}
	_, err := New(cfg)
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Zero(t, v.closed, "New failed: the resolver is still the caller's")

	cfg.Targets[0].Model.Provider = "openai"
	p, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.Equal(t, 1, v.closed, "the Proxy owned the resolver")
}
