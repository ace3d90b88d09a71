package aiproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// newEmbedder returns the semantic balancer's embedder and a name for its embedding space:
// Config.Embedder, or the remote model Config.Embeddings names, as a target of env.
func newEmbedder(cfg *Config, env *targetEnv, logger *slog.Logger) (Embedder, string, error) {
	switch {
	case cfg.Embedder != nil:
		if n, ok := cfg.Embedder.(interface{ Name() string }); ok {
			return cfg.Embedder, n.Name(), nil
		}
		if persistentStore(cfg) {
			logger.Warn("aiproxy: Config.Embedder has no Name() string method, so its vectors are stored under its Go type's name only: "+
				"another embedder of the same type (another model) sharing the vector store would reuse them; give it a Name that names the model",
				"type", fmt.Sprintf("%T", cfg.Embedder))
		}
		return cfg.Embedder, fmt.Sprintf("%T", cfg.Embedder), nil
	case usesEmbeddingsModel(cfg):
		m := cfg.Embeddings.Model
		if db := cfg.VectorDB; db != nil && db.Dimensions > 0 && m.Options.EmbeddingsDimensions == nil && asksDimensions(m) {
			d := db.Dimensions // as Kong does: OpenAI's text-embedding-3 models shorten their vectors to it
			m.Options.EmbeddingsDimensions = &d
		}
		t, err := newTarget(Target{
			RouteType: provider.Embeddings,
			Model:     provider.Model{Provider: m.Provider, Name: m.Name, Options: m.Options},
			Auth:      cfg.Embeddings.Auth,
		}, env)
		if err != nil {
			return nil, "", fmt.Errorf("embeddings: %w", err)
		}
		id := m.Provider + "/" + m.Name
		if d := m.Options.EmbeddingsDimensions; d != nil {
			id += fmt.Sprintf("@%d", *d)
		}
		return &providerEmbedder{t: t, transport: env.client.Transport, batch: maxBatch(m.Provider, m.Name)}, id, nil
	}
	return nil, "", errors.New("balancer.algorithm semantic needs an embedder: set Config.Embedder (offline.New() of package " +
		"github.com/aiproxy/aiproxy/embed/offline is the built-in offline one, which package kong sets for Kong files without embeddings) " +
		"or Config.Embeddings naming a remote model")
}

// persistentStore reports whether the vectors outlive the Proxy: a Redis or pgvector
// vectordb, or a Config.VectorStore other than the in-memory one.
func persistentStore(cfg *Config) bool {
	if cfg.VectorStore != nil {
		_, memory := cfg.VectorStore.(*vectorstore.Memory)
		return !memory
	}
	return cfg.VectorDB != nil && cfg.VectorDB.Store != nil
}

// asksDimensions reports whether vectordb.dimensions is sent to m as OpenAI's dimensions
// parameter when model.options.embeddings_dimensions is not set, as Kong's OpenAI embeddings
// driver does. text-embedding-ada-002 refuses the parameter.
func asksDimensions(m EmbeddingModel) bool {
	return (m.Provider == "openai" || m.Provider == "azure") && !strings.Contains(m.Name, "ada-002")
}

// usesEmbeddingsModel reports whether the embedder is the remote model cfg.Embeddings names
// (not Config.Embedder, not the offline one): vectordb.dimensions describes that model only.
func usesEmbeddingsModel(cfg *Config) bool {
	return cfg.Embedder == nil && cfg.Embeddings != nil && cfg.Embeddings.Model.Provider != "offline"
}

// providerEmbedder embeds through a provider's embeddings API, with the same request
// building, credentials and timeouts as the targets.
type providerEmbedder struct {
	t         *target
	transport http.RoundTripper
	batch     int // the most texts the API takes in one request; 0: no limit
}

// maxBatch is the most texts one embeddings request of provider and model may carry, as
// the APIs document them; 0 means no documented limit.
func maxBatch(prov, model string) int {
	switch {
	case prov == "openai", prov == "azure":
		return 2048
	case prov == "gemini":
		return 100 // batchEmbedContents
	case prov == "cohere", prov == "bedrock" && strings.Contains(model, "cohere.embed"):
		return 96
	case prov == "bedrock":
		return 1 // Titan's InvokeModel body has one inputText
	}
	return 0
}

// Embed sends texts in as few requests as the API allows, up to 8 at a time.
func (e *providerEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if e.batch == 0 || len(texts) <= e.batch {
		return e.embedBatch(ctx, texts)
	}
	vecs := make([][]float32, len(texts))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for start := 0; start < len(texts); start += e.batch {
		end := min(start+e.batch, len(texts))
		g.Go(func() error {
			vs, err := e.embedBatch(ctx, texts[start:end])
			copy(vecs[start:end], vs)
			return err
		})
	}
	return vecs, g.Wait()
}

// embedBatch sends texts in one request.
func (e *providerEmbedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body := []byte(`{"input":`)
	in, err := json.Marshal(texts)
	if err != nil {
		return nil, err
	}
	body = append(body, in...)
	if d := e.t.cfg.Model.Options.EmbeddingsDimensions; d != nil {
		body = append(body, fmt.Sprintf(`,"dimensions":%d`, *d)...)
	}
	body = append(body, '}')
	if len(e.t.edits) > 0 {
		body = jsonx.Apply(make([]byte, 0, len(body)+64), body, e.t.edits)
	}
	u, f := e.t.request(ctx, provider.Embeddings, body, false, nil)
	if f != nil {
		return nil, f.err
	}
	resp, err := e.transport.RoundTrip(u.req)
	if err != nil {
		return nil, errors.New("embeddings request failed: " + errText(err))
	}
	defer resp.Body.Close()
	raw, err := readAll(resp.Body, resp.ContentLength, maxResponse)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		pe := e.t.prov.ParseError(u.preq, resp.StatusCode, resp.Header, raw)
		pe.Message = secret.Scrub(pe.Message, u.creds[:])
		return nil, pe
	}
	out, err := e.t.prov.ParseResponse(u.preq, resp.Header, raw)
	if err != nil {
		return nil, err
	}
	var list provider.EmbeddingResponse
	if err := json.Unmarshal(out.Body, &list); err != nil {
		return nil, fmt.Errorf("decoding the embeddings response: %w", err)
	}
	if len(list.Data) != len(texts) {
		return nil, fmt.Errorf("the embeddings response has %d vectors for %d inputs", len(list.Data), len(texts))
	}
	slices.SortFunc(list.Data, func(a, b provider.Embedding) int { return a.Index - b.Index })
	vecs := make([][]float32, len(list.Data))
	for i, d := range list.Data {
		vecs[i] = d.Embedding
	}
	return vecs, nil
}
