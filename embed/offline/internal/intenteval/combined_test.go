package intenteval_test

import (
	"context"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline/internal/intenteval"
)

// The combined rows' router names: with examples, the threshold is calibrated from them at
// start; with descriptions only there is nothing to calibrate from (every prompt goes to
// its best target), so the operating point is FitThreshold's on dev, as for Kong's rule.
const (
	semRouterName    = "ScoreCombined, threshold calibrated from examples"
	semRouterFitName = "ScoreCombined, FitThreshold on dev"
)

// semRow measures aiproxy with VectorDB.Scoring = ScoreCombined through the public API: kNN
// and BM25 signals and the margin over the runner-up, no labelled out-of-scope prompt.
func semRow(t testing.TB, set *intenteval.Set, s setup) row {
	p, byDesc := proxy(t, set, s, aiproxy.ScoreCombined)
	dev, held := explain(t, p, byDesc, set.Dev), explain(t, p, byDesc, set.Heldout)
	r := row{set: set.Name, setup: s.name, router: semRouterFitName,
		dev: intenteval.Score(set.Dev, dev), held: intenteval.Score(set.Heldout, held)}
	cut := fit(t, p, set)
	if s.examples {
		d, err := p.Explain(context.Background(), set.Heldout[0].Text)
		if err != nil {
			t.Fatal(err)
		}
		r.router, cut = semRouterName, d.Threshold
	}
	r.atIn, r.atOOS = intenteval.At(set.Heldout, held, cut)
	return r
}
