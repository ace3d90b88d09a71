package aiproxy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// vectordb.dimensions describes the configured embeddings model: it is checked against
// what that model returns, and not against an embedder substituted for it.
func TestDimensions(t *testing.T) {
	remote := func(t *testing.T, dims int, asked *int) aiproxy.Config {
		cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
		emb := aiproxytestOpenAI(t)
		cfg.Embedder = nil
		cfg.Embeddings = &aiproxy.EmbeddingsConfig{Model: aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small",
			Options: provider.Options{UpstreamURL: emb.BaseURL() + "/embeddings", EmbeddingsDimensions: asked}}}
		cfg.VectorDB.Dimensions = dims
		return cfg
	}
	t.Run("remote model, mismatch", func(t *testing.T) {
		p := newSeedProxy(t, remote(t, 1536, nil)) // the fake returns 64 values unless asked
		_, err := p.Explain(context.Background(), "baking")
		require.Error(t, err)
		assert.True(t, errors.Is(err, vectorstore.ErrDimensions))
		assert.ErrorContains(t, err, "vectordb.dimensions is 1536 but the embeddings model returned 64 values")
	})
	t.Run("remote model, asked for the dimensions", func(t *testing.T) {
		n := 1536
		p := newSeedProxy(t, remote(t, 1536, &n))
		d, err := p.Explain(context.Background(), "baking recipes")
		require.NoError(t, err)
		assert.Equal(t, "cooking recipes baking", d.Description)
	})
	for _, sub := range []string{"Config.Embedder", "provider offline"} {
		t.Run(sub+" is not checked", func(t *testing.T) {
			cfg := remote(t, 1536, nil) // a Kong config sized for text-embedding-3-small
			if sub == "Config.Embedder" {
				cfg.Embedder = bagOfWords
			} else {
				cfg.Embeddings.Model.Provider = "offline"
			}
			p := newSeedProxy(t, cfg)
			d, err := p.Explain(context.Background(), "baking recipes")
			require.NoError(t, err)
			assert.Equal(t, "cooking recipes baking", d.Description)
		})
	}
	t.Run("negative", func(t *testing.T) {
		cfg := remote(t, -1, nil)
		_, err := aiproxy.New(cfg)
		assert.ErrorContains(t, err, "vectordb.dimensions -1")
	})
}

func aiproxytestOpenAI(t *testing.T) *aiproxytest.OpenAI {
	f := aiproxytest.NewOpenAI()
	t.Cleanup(f.Close)
	return f
}
