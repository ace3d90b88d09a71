package aiproxy

import (
	"context"

	"github.com/aiproxy/aiproxy/vectorstore"
)

// Embedder turns texts into vectors for the semantic balancer. Implementations are safe for
// concurrent use and return one vector per text, in order, all of the same length.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedderFunc adapts a function to Embedder.
type EmbedderFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embed calls f.
func (f EmbedderFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// VectorStore keeps the embeddings of target descriptions; see package vectorstore.
type VectorStore = vectorstore.Store
