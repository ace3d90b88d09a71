// Package vectorstore defines where the semantic balancer keeps the embeddings of target
// descriptions, and provides the in-memory store. Adapters for Redis and pgvector live in
// subpackages; vectortest holds the conformance suite every store passes.
package vectorstore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/aiproxy/aiproxy/secret"
)

// Metric is how distance between two vectors is measured (Kong's vectordb.distance_metric).
type Metric string

const (
	// Cosine distance: 1 - cosine similarity, in [0, 2]. 0 means the same direction.
	Cosine Metric = "cosine"
	// Euclidean distance: the L2 norm of the difference.
	Euclidean Metric = "euclidean"
)

// Vector is a stored embedding. IDs are chosen by the caller; the semantic balancer uses a
// hash of the embedded text, so a changed description gets a new ID.
type Vector struct {
	ID     string
	Values []float32
}

// Match is a search result. Distance is measured with the store's Metric; smaller is nearer.
type Match struct {
	ID       string
	Distance float64
}

// Store keeps vectors and finds the nearest ones. Implementations are safe for concurrent use.
// A store that holds connections also implements io.Closer.
type Store interface {
	// Upsert stores vectors, replacing any stored under the same ID.
	Upsert(ctx context.Context, vectors ...Vector) error
	// Search returns up to k stored vectors nearest to query, nearest first. k == 0 returns
	// nothing; k < 0 means no limit.
	Search(ctx context.Context, query []float32, k int) ([]Match, error)
}

// Getter is an optional capability of a Store: it returns stored vectors by ID. The
// semantic balancer uses it at start to find the descriptions already embedded (by an
// earlier run or another replica) and embeds only the others.
type Getter interface {
	// Get returns the stored vectors of those ids that exist, in the order of ids; IDs with
	// no vector are left out. A store that transforms what it keeps (a Redis Vector Set
	// normalises) returns what it reconstructs, within float32 rounding.
	Get(ctx context.Context, ids ...string) ([]Vector, error)
}

// Pruner is an optional capability of a Store: it deletes the vectors a function picks by
// ID. The semantic balancer uses it at start, with VectorDBConfig.PruneStale, to delete the
// vectors of its embedding space that no current description owns.
type Pruner interface {
	// Prune deletes the stored vectors whose ID stale reports true for, and returns how
	// many it deleted. stale may be called from any goroutine, once per stored ID.
	Prune(ctx context.Context, stale func(id string) bool) (int, error)
}

// ErrDimensions is returned (wrapped) when a vector's length differs from the store's.
var ErrDimensions = errors.New("vectorstore: vector dimensions do not match")

// CheckVectors returns an error wrapping ErrDimensions unless every vector has want values.
func CheckVectors(want int, vectors []Vector) error {
	for _, v := range vectors {
		if err := CheckDimensions(v.Values, want); err != nil {
			return err
		}
	}
	return nil
}

// CheckDimensions returns an error wrapping ErrDimensions unless len(v) == want.
func CheckDimensions(v []float32, want int) error {
	if len(v) != want {
		return fmt.Errorf("%w: got %d, want %d", ErrDimensions, len(v), want)
	}
	return nil
}

// Distance measures a against b with m. a and b must have the same length.
func Distance(m Metric, a, b []float32) float64 {
	switch m {
	case Euclidean:
		var s float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return math.Sqrt(s)
	default:
		var dot, na, nb float64
		for i := range a {
			dot += float64(a[i]) * float64(b[i])
			na += float64(a[i]) * float64(a[i])
			nb += float64(b[i]) * float64(b[i])
		}
		if na == 0 || nb == 0 {
			return 1
		}
		return 1 - dot/math.Sqrt(na*nb)
	}
}

// Opener opens the Store the semantic balancer keeps its vectors in. The balancer calls Open
// on the first request that needs the store, once it knows the length of its embedder's
// vectors; the adapters' Options (redisstore.Options, pgvectorstore.Options) are Openers.
type Opener interface {
	// Open connects to the store for vectors of dims values compared by metric. The secret
	// references among the opener's credentials (those Secrets lists) are resolved through
	// vaults first, and their values are kept out of the error.
	Open(ctx context.Context, dims int, metric Metric, vaults *secret.Vaults) (Store, error)
	// Secrets lists the opener's credential fields that may hold references, with their
	// paths in Kong's configuration, for the checks of aiproxy.New and ValidateSecrets.
	Secrets() []secret.Field
}

// OpenResolved is how an adapter's Opener opens its store: it replaces the references among
// fields (the opener's credentials) with their values through vaults, then calls open; an
// error from open has the resolved values taken out of its text (a database may quote the
// user it connected as).
func OpenResolved[S Store](ctx context.Context, vaults *secret.Vaults, fields []secret.Field, open func() (S, error)) (Store, error) {
	resolved, err := secret.ExpandFields(ctx, vaults, fields)
	if err != nil {
		return nil, err
	}
	s, err := open()
	if err != nil {
		return nil, secret.ScrubError(err, resolved)
	}
	return s, nil
}

// CheckShape fills in the default metric (cosine) and checks metric and dims, for a store's
// options; pkg prefixes the errors.
func CheckShape(pkg string, metric *Metric, dims int) error {
	switch *metric {
	case "":
		*metric = Cosine
	case Cosine, Euclidean:
	default:
		return fmt.Errorf("%s: unknown distance_metric %q (want cosine or euclidean)", pkg, *metric)
	}
	if dims <= 0 {
		return errors.New(pkg + ": dimensions must be positive")
	}
	return nil
}
