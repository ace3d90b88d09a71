package aiproxy_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
)

// countingEmbedder is the offline embedder, recording the texts it is asked to embed.
type countingEmbedder struct {
	*offline.Embedder
	rec *textLog
}

func (e countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.rec.add(texts)
	return e.Embedder.Embed(ctx, texts)
}

// blindEmbedder is countingEmbedder without Dimensions(): its vector length is known only
// once it has embedded something.
type blindEmbedder struct{ e countingEmbedder }

func (b blindEmbedder) Name() string { return b.e.Name() }
func (b blindEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return b.e.Embed(ctx, texts)
}

// textLog records embedded texts, safe for concurrent use.
type textLog struct {
	mu    sync.Mutex
	texts []string
}

func (l *textLog) add(texts []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.texts = append(l.texts, texts...)
}

// take returns the texts recorded since the last take, leaving out the prompts.
func (l *textLog) take(prompts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, t := range l.texts {
		if !slices.Contains(prompts, t) {
			out = append(out, t)
		}
	}
	l.texts = nil
	return out
}

// TestDescriptionVectorsAreReused: a replica and a restart over the same store embed no
// description at start; a changed description is the only one embedded. The store is known
// before embedding: Config.VectorStore (memory), or opened with the embedder's Dimensions()
// (the offline embedder's, or a Config.Embedder's), or with vectordb.dimensions for a
// remote model.
func TestDescriptionVectorsAreReused(t *testing.T) {
	const flask = "How can I build a REST API using Flask?"
	embedders := []struct {
		name string
		// set makes cfg embed through a counting embedder, recording into rec.
		set func(t *testing.T, cfg *aiproxy.Config, rec *textLog)
	}{
		{"Config.Embedder with Dimensions", func(t *testing.T, cfg *aiproxy.Config, rec *textLog) {
			cfg.Embedder = countingEmbedder{offline.New(), rec}
		}},
		{"remote model with vectordb.dimensions", func(t *testing.T, cfg *aiproxy.Config, rec *textLog) {
			emb := aiproxytest.NewOpenAI()
			t.Cleanup(emb.Close)
			emb.Embed = func(inputs []string, dims int) [][]float32 {
				rec.add(inputs)
				out := make([][]float32, len(inputs))
				for i, in := range inputs {
					out[i] = aiproxytest.BagOfWords(in, dims)
				}
				return out
			}
			cfg.Embedder = nil
			cfg.Embeddings = &aiproxy.EmbeddingsConfig{Model: aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small",
				Options: provider.Options{UpstreamURL: emb.BaseURL() + "/embeddings"}}}
			cfg.VectorDB.Dimensions = offline.New().Dimensions() // asked of the model; countMemory measures at this length
		}},
	}
	for _, store := range stores {
		for _, emb := range embedders {
			t.Run(store.name+"/"+emb.name, func(t *testing.T) {
				ns := newNamespace()
				ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
				rec := &textLog{}
				config := func(first string) aiproxy.Config {
					cfg := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
					emb.set(t, &cfg, rec)
					if first != "" {
						cfg.Targets[0].Description = first
					}
					return cfg
				}
				start := func(cfg aiproxy.Config) *aiproxy.Proxy {
					p := newSeedProxy(t, cfg)
					_, err := p.Explain(context.Background(), flask) // starts the semantic balancer
					require.NoError(t, err)
					return p
				}

				var prompts []string
				for _, sp := range seed000Prompts {
					prompts = append(prompts, sp.prompt)
				}
				routes := func(p *aiproxy.Proxy) []string {
					var models []string
					for _, prompt := range prompts {
						_, model := chat(t, p, prompt)
						models = append(models, model)
					}
					return models
				}

				a := start(config(""))
				assert.ElementsMatch(t, []string{programmingDesc, mathDesc}, rec.take(prompts...), "the first start embeds each description")
				want := routes(a)
				require.NotEmpty(t, want)

				b := start(config(""))
				assert.Empty(t, rec.take(prompts...), "a replica reuses the stored vectors")
				assert.Equal(t, want, routes(b), "a replica routes alike")
				require.NoError(t, a.Close())
				require.NoError(t, b.Close())

				c := start(config(""))
				assert.Empty(t, rec.take(prompts...), "a restart reuses the stored vectors")
				assert.Equal(t, want, routes(c), "a restart routes alike")
				require.NoError(t, c.Close())

				d := start(config(cookingDesc)) // was programming
				assert.Equal(t, []string{cookingDesc}, rec.take(prompts...), "only the changed description is embedded")
				dec, err := d.Explain(context.Background(), flask)
				require.NoError(t, err)
				var descs []string
				for _, s := range dec.Scores {
					descs = append(descs, s.Description)
				}
				assert.ElementsMatch(t, []string{cookingDesc, mathDesc}, descs, "the stale programming vector is not scored")
				assert.Equal(t, 3, store.count(t, ns))
			})
		}
	}
}

// TestVectorLengthUnknownEmbedsAtStart: with an embedder that does not report its
// dimensions, a store named by vectordb is opened for the length of the first vectors, so
// every start embeds the descriptions (and stores them again, under the same IDs).
func TestVectorLengthUnknownEmbedsAtStart(t *testing.T) {
	const flask = "How can I build a REST API using Flask?"
	store := stores[1] // redis7
	ns := newNamespace()
	ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
	rec := &textLog{}
	for range 2 {
		cfg := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
		cfg.Embedder = blindEmbedder{countingEmbedder{offline.New(), rec}}
		p := newSeedProxy(t, cfg)
		_, model := chat(t, p, flask)
		assert.Equal(t, "gpt-3.5-turbo", model)
		assert.ElementsMatch(t, []string{programmingDesc, mathDesc}, rec.take(flask))
		require.NoError(t, p.Close())
	}
	assert.Equal(t, 2, store.count(t, ns))
}
