package aiproxy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// vectordb.dimensions describes the configured embeddings model: it is checked against
// what that model returns, and not against an embedder substituted for it.
func TestDimensions(t *testing.T) {
	remote := func(t *testing.T, dims int, asked *int) (aiproxy.Config, *aiproxytest.OpenAI) {
		cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
		emb := aiproxytestOpenAI(t)
		cfg.Embedder = nil
		cfg.Embeddings = &aiproxy.EmbeddingsConfig{Model: aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small",
			Options: provider.Options{UpstreamURL: emb.BaseURL() + "/embeddings", EmbeddingsDimensions: asked}}}
		cfg.VectorDB.Dimensions = dims
		return cfg, emb
	}
	t.Run("remote model, mismatch", func(t *testing.T) {
		cfg, _ := remote(t, 1536, nil)
		cfg.Embeddings.Model.Provider, cfg.Embeddings.Model.Name = "mistral", "mistral-embed" // the fake returns 64 values unless asked
		p := newSeedProxy(t, cfg)
		_, err := p.Explain(context.Background(), "baking")
		require.Error(t, err)
		assert.True(t, errors.Is(err, vectorstore.ErrDimensions))
		assert.ErrorContains(t, err, "vectordb.dimensions is 1536 but the embeddings model returned 64 values")
	})
	t.Run("openai model, asked for vectordb.dimensions as Kong does", func(t *testing.T) {
		cfg, emb := remote(t, 1024, nil) // seed 002: text-embedding-3-small at 1024
		p := newSeedProxy(t, cfg)
		d, err := p.Explain(context.Background(), "baking recipes")
		require.NoError(t, err)
		assert.Equal(t, "cooking recipes baking", d.Description)
		require.NotEmpty(t, emb.Requests())
		for _, r := range emb.Requests() {
			assert.Contains(t, string(r.Body), `"dimensions":1024`)
		}
	})
	t.Run("remote model, asked for the dimensions", func(t *testing.T) {
		n := 1536
		cfg, _ := remote(t, 1536, &n)
		p := newSeedProxy(t, cfg)
		d, err := p.Explain(context.Background(), "baking recipes")
		require.NoError(t, err)
		assert.Equal(t, "cooking recipes baking", d.Description)
	})
	for _, sub := range []string{"Config.Embedder", "provider offline"} {
		t.Run(sub+" is not checked", func(t *testing.T) {
			cfg, _ := remote(t, 1536, nil) // a Kong config sized for text-embedding-3-small
			if sub == "Config.Embedder" {
				cfg.Embedder = bagOfWords
			} else {
				cfg.Embeddings.Model.Provider, cfg.Embedder = "offline", offline.New()
			}
			p := newSeedProxy(t, cfg)
			d, err := p.Explain(context.Background(), "baking recipes")
			require.NoError(t, err)
			assert.Equal(t, "cooking recipes baking", d.Description)
		})
	}
	t.Run("negative", func(t *testing.T) {
		cfg, _ := remote(t, -1, nil)
		_, err := aiproxy.New(cfg)
		assert.ErrorContains(t, err, "vectordb.dimensions -1")
	})
}

func aiproxytestOpenAI(t *testing.T) *aiproxytest.OpenAI {
	f := aiproxytest.NewOpenAI()
	t.Cleanup(f.Close)
	return f
}
