package intenteval_test

import (
	"context"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline/internal/intenteval"
)

const semRouterName = "ScoreCombined, threshold calibrated from examples"

// semRow measures aiproxy with VectorDB.Scoring = ScoreCombined through the public API (kNN
// and BM25 signals, the threshold calibrated at start from the examples alone, no labelled
// out-of-scope prompt; with descriptions only there are no examples, and every prompt goes
// to its best target). The operating point is the threshold Explain reports.
func semRow(t testing.TB, set *intenteval.Set, s setup) row {
	p, byDesc := proxy(t, set, s, aiproxy.ScoreCombined)
	d, err := p.Explain(context.Background(), set.Heldout[0].Text)
	if err != nil {
		t.Fatal(err)
	}
	dev, held := explain(t, p, byDesc, set.Dev), explain(t, p, byDesc, set.Heldout)
	r := row{set: set.Name, setup: s.name, router: semRouterName,
		dev: intenteval.Score(set.Dev, dev), held: intenteval.Score(set.Heldout, held)}
	r.atIn, r.atOOS = intenteval.At(set.Heldout, held, d.Threshold)
	return r
}
