package intenteval_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/embed/offline/internal/intenteval"
	"github.com/aiproxy/aiproxy/provider"
)

const dataDir = "../../testdata/intents"

// setup is how targets are configured: one description each (Kong style), or the
// description and the target's 40 examples (aiproxy's examples).
type setup struct {
	name     string
	examples bool
}

var setups = []setup{{"description", false}, {"examples", true}}

// proxy builds a semantic aiproxy over set's targets with the offline embedder, the
// memory store and scoring, and no threshold configured.
func proxy(t testing.TB, set *intenteval.Set, s setup, scoring aiproxy.Scoring) (*aiproxy.Proxy, map[string]string) {
	t.Helper()
	cfg := aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Semantic},
		VectorDB: &aiproxy.VectorDBConfig{Scoring: scoring},
		Embedder: offline.New(),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	byDesc := map[string]string{}
	for _, name := range set.Targets {
		tg := aiproxy.Target{Model: provider.Model{Provider: "openai", Name: name}, Description: set.Descriptions[name]}
		if s.examples {
			tg.Examples = set.Examples[name]
		}
		cfg.Targets = append(cfg.Targets, tg)
		byDesc[tg.Description] = name
	}
	p, err := aiproxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, byDesc
}

// explain routes every item through p.Explain: the nearest target and its distance.
func explain(t testing.TB, p *aiproxy.Proxy, byDesc map[string]string, items []intenteval.Item) []intenteval.Outcome {
	t.Helper()
	out := make([]intenteval.Outcome, len(items))
	for i, it := range items {
		d, err := p.Explain(context.Background(), it.Text)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = intenteval.Outcome{Target: intenteval.Catchall, Score: d.Distance}
		if len(d.Scores) > 0 {
			out[i] = intenteval.Outcome{Target: byDesc[d.Scores[0].Description], Score: d.Scores[0].Distance}
		}
	}
	return out
}

// fit is FitThreshold on set's dev part, as a user with labelled traffic would set it.
func fit(t testing.TB, p *aiproxy.Proxy, set *intenteval.Set) float64 {
	t.Helper()
	labelled := make([]aiproxy.LabeledPrompt, len(set.Dev))
	for i, it := range set.Dev {
		labelled[i] = aiproxy.LabeledPrompt{Prompt: it.Text, Want: aiproxy.Catchall}
		if it.Target != intenteval.Catchall {
			labelled[i].Want = set.Descriptions[it.Target]
		}
	}
	f, err := p.FitThreshold(context.Background(), labelled)
	if err != nil {
		t.Fatal(err)
	}
	return f.Threshold
}

// row is one line of the report: a router's results on dev and held-out, and its
// operating point (cut) applied to held-out.
type row struct {
	set, setup, router string
	dev, held          intenteval.Result
	atIn, atOOS        float64
}

func (r row) String() string {
	pct := func(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s / %s |", r.set, r.setup, r.router,
		pct(r.dev.BestInScope), pct(r.dev.Nearest), pct(r.held.BestInScope), pct(r.held.Nearest), pct(r.atIn), pct(r.atOOS))
}

const header = "| set | setup | router | dev: in-scope at ≥ 70 % OOS recall | dev: no threshold | held-out: in-scope at ≥ 70 % OOS recall | held-out: no threshold | held-out at its operating point: in-scope / OOS recall |\n|---|---|---|---|---|---|---|---|"

// kongRow measures aiproxy's nearest-description rule through the public API, with the
// threshold FitThreshold finds on dev as the operating point.
func kongRow(t testing.TB, set *intenteval.Set, s setup) row {
	p, byDesc := proxy(t, set, s, aiproxy.ScoreNearest)
	dev := explain(t, p, byDesc, set.Dev)
	held := explain(t, p, byDesc, set.Heldout)
	r := row{set: set.Name, setup: s.name, router: "nearest, FitThreshold on dev",
		dev: intenteval.Score(set.Dev, dev), held: intenteval.Score(set.Heldout, held)}
	r.atIn, r.atOOS = intenteval.At(set.Heldout, held, fit(t, p, set))
	return r
}

// floors are the held-out figures the routers must keep (best in-scope accuracy at ≥ 70 %
// out-of-scope recall), a little under what was measured so that noise-free changes to the
// embedder or the router that make things worse fail.
var floors = map[[3]string]float64{
	{"banking77", "description", "nearest, FitThreshold on dev"}: 0.46,
	{"banking77", "examples", "nearest, FitThreshold on dev"}:    0.65,
	{"hwu64", "description", "nearest, FitThreshold on dev"}:     0.62,
	{"hwu64", "examples", "nearest, FitThreshold on dev"}:        0.75,
	{"snips", "description", "nearest, FitThreshold on dev"}:     0.57,
	{"snips", "examples", "nearest, FitThreshold on dev"}:        0.81,

	{"banking77", "description", "ScoreCombined, FitThreshold on dev"}:             0.70,
	{"banking77", "examples", "ScoreCombined, threshold calibrated from examples"}: 0.82,
	{"hwu64", "description", "ScoreCombined, FitThreshold on dev"}:                 0.76,
	{"hwu64", "examples", "ScoreCombined, threshold calibrated from examples"}:     0.86,
	{"snips", "description", "ScoreCombined, FitThreshold on dev"}:                 0.60,
	{"snips", "examples", "ScoreCombined, threshold calibrated from examples"}:     0.92,
}

// TestIntentReport prints the report's table and checks the held-out floors.
func TestIntentReport(t *testing.T) {
	var lines []string
	for _, name := range intenteval.Sets {
		set, err := intenteval.Load(dataDir, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range setups {
			for _, r := range []row{kongRow(t, set, s), semRow(t, set, s)} {
				lines = append(lines, r.String())
				floor, ok := floors[[3]string{r.set, r.setup, r.router}]
				if !ok {
					t.Errorf("%s/%s/%s: no floor", r.set, r.setup, r.router)
				}
				if r.held.BestInScope < floor {
					t.Errorf("%s/%s/%s: held-out in-scope accuracy at ≥ 70 %% OOS recall %.3f, want ≥ %.3f",
						r.set, r.setup, r.router, r.held.BestInScope, floor)
				}
				if r.router == semRouterName && s.examples && r.atOOS < intenteval.MinOutOfScopeRecall {
					t.Errorf("%s/%s/%s: the threshold calibrated from the examples lets %.1f %% of held-out out-of-scope prompts in, want ≤ 30 %%",
						r.set, r.setup, r.router, 100*(1-r.atOOS))
				}
			}
		}
	}
	t.Log("\n" + header + "\n" + strings.Join(lines, "\n"))
}
