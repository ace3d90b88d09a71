package intenteval_test

import (
	"context"
	"testing"

	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/embed/offline/internal/intenteval"
	"github.com/aiproxy/aiproxy/internal/semroute"
)

// semRouter fits a semroute.Router to set's targets with the offline embedder; the
// outcome's score is the router's threshold less the best target's score, so cut 0 is its
// calibrated operating point.
func semRouter(t testing.TB, set *intenteval.Set, s setup, opts semroute.Options) func([]intenteval.Item) []intenteval.Outcome {
	t.Helper()
	e := offline.New()
	ctx := context.Background()
	var targets []semroute.Target
	for _, name := range set.Targets {
		texts := []string{set.Descriptions[name]}
		if s.examples {
			texts = append(texts, set.Examples[name]...)
		}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, semroute.Target{Texts: texts, Vectors: vecs})
	}
	r, err := semroute.New(targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	return func(items []intenteval.Item) []intenteval.Outcome {
		out := make([]intenteval.Outcome, len(items))
		vec := make([]float32, e.Dimensions())
		var d semroute.Decision
		for i, it := range items {
			e.EmbedInto(vec, it.Text)
			r.Route(vec, it.Text, &d)
			out[i] = intenteval.Outcome{Target: set.Targets[d.Best], Score: r.Threshold() - d.Targets[d.Best].Score}
		}
		return out
	}
}

const semRouterName = "semroute, calibrated from examples"

// semRow measures semroute (kNN, BM25, threshold calibrated from the examples alone, no
// labelled out-of-scope prompt) with its default options.
func semRow(t testing.TB, set *intenteval.Set, s setup) row {
	route := semRouter(t, set, s, semroute.Options{})
	dev, held := route(set.Dev), route(set.Heldout)
	r := row{set: set.Name, setup: s.name, router: semRouterName,
		dev: intenteval.Score(set.Dev, dev), held: intenteval.Score(set.Heldout, held)}
	r.atIn, r.atOOS = intenteval.At(set.Heldout, held, 0)
	return r
}
