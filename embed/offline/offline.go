// Package offline is aiproxy's built-in text embedder: pure Go, no network, no API key, no cgo,
// deterministic, and fast (tens of microseconds for a 200-word prompt). It exists so that
// semantic routing works out of the box; it is not a general-purpose sentence encoder.
//
// # How it works
//
// A text is tokenized (lower case, accents folded, split on anything that is not a letter or a
// digit), stop words are dropped, and every other word adds its vector, weighted by how rare
// it is (smooth inverse frequency, a/(a+p(w))). Inflected forms fall back to their stem
// ("theorems" → "theorem"), and words outside the vocabulary ("GraphQL", "goroutine") add the
// mean vector of their character n-grams. The common direction of all texts is removed and the
// result is normalised, so unrelated texts score near cosine 0 and texts about the same topic
// score clearly above it.
//
// The word vectors are fastText skip-gram vectors trained on WordNet 3.0 (synonyms, related
// words, topic domains and glosses) plus the Python and Node.js reference documentation, all
// from Debian packages; scripts/offline-embedder regenerates the data exactly.
//
// # Good at, bad at
//
// Good at: telling topics apart from their vocabulary — programming versus mathematics versus
// cooking or law — with short descriptions such as Kong's "programming, coding, software
// development, Python, JavaScript, APIs, debugging", and keeping general-knowledge questions
// below a similarity of 0.2 to such descriptions.
//
// Bad at: anything that needs word order, negation or syntax ("not about maths" is about
// maths); paraphrases that share no topical word; languages other than English; very recent
// product names whose character n-grams do not look like any known word; descriptions that
// are instructions ("Specialist in …") rather than topics. For those, use a real embedding
// model through one of the remote embedders.
//
// Vectors have [Dimensions] values and unit length. A text with no content word (empty, only
// stop words or punctuation) gets a vector orthogonal to every other text's.
package offline

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sync"

	"github.com/aiproxy/aiproxy/embed/offline/internal/core"
)

//go:embed model.bin
var modelData []byte

var (
	loadOnce sync.Once
	model    *core.Model
	loadErr  error
)

func load() (*core.Model, error) {
	loadOnce.Do(func() { model, loadErr = parseModel() })
	return model, loadErr
}

func parseModel() (*core.Model, error) { return core.Parse(modelData) }

var name = func() string {
	sum := sha256.Sum256(modelData)
	return "offline/" + hex.EncodeToString(sum[:6])
}()

// Embedder embeds texts with the built-in model. The zero value is not usable; call New.
// It is safe for concurrent use.
type Embedder struct {
	m *core.Model
}

// New returns the embedder. The first call decodes the embedded model (a few milliseconds);
// later calls share it. It panics only if the embedded data is corrupt, which the package's
// tests rule out.
func New() *Embedder {
	m, err := load()
	if err != nil {
		panic(err)
	}
	return &Embedder{m: m}
}

// Name identifies the embedding space: "offline/" and a digest of the embedded model, so vectors
// stored by one version of the model are never compared with another's.
func (e *Embedder) Name() string { return name }

// Dimensions is the length of every vector Embed returns.
func (e *Embedder) Dimensions() int { return e.m.Dim + 1 }

// Embed returns one unit-length vector per text, in order. It fails only when ctx is done.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := e.Dimensions()
	flat := make([]float32, d*len(texts))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v := flat[i*d : (i+1)*d : (i+1)*d]
		e.m.Embed(t, v)
		out[i] = v
	}
	return out, nil
}

// EmbedInto writes the embedding of text into dst, which must have Dimensions() elements.
// It allocates nothing; use it on hot paths.
func (e *Embedder) EmbedInto(dst []float32, text string) {
	e.m.Embed(text, dst[:e.Dimensions()])
}

// Tokenize returns the tokens the embedder sees in text (before stop words are dropped): lower
// case, accents folded ("Gödel" → "godel"), split on everything but letters and digits.
func Tokenize(text string) []string { return core.Tokenize(text) }
