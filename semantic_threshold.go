package aiproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// LabeledPrompt is a prompt and the description it should route to: a target's
// description, or Catchall (or "") for a prompt that no description should match.
type LabeledPrompt struct {
	Prompt string
	Want   string
}

// ThresholdFit is what FitThreshold found.
type ThresholdFit struct {
	// Threshold is the distance to set as VectorDBConfig.Threshold.
	Threshold float64
	// Correct of Total examples route as labelled with Threshold.
	Correct, Total int
	// Misses are the examples that route otherwise, with the decision they get. An
	// in-scope example whose nearest description is another is a miss at every threshold:
	// improve the descriptions or add Examples to the targets.
	Misses []Miss
}

// Miss is an example that does not route as labelled.
type Miss struct {
	LabeledPrompt
	Got      string // the description chosen, or Catchall
	Distance float64
}

// FitThreshold chooses the vectordb threshold that routes the most examples as labelled,
// out-of-scope ones (to Catchall) included, with the proxy's embedder, descriptions and
// examples. Of the interval of thresholds that do best (the first, should two do as well),
// however many examples' distances lie inside it, it returns the middle (the lowest when it
// has no upper end: every distance within it), so that prompts near the examples route alike.
// With ScoreCombined, the distances are 1 − the combined scores, and the threshold returned
// replaces the one calibrated from the target examples. It sends nothing upstream.
func (p *Proxy) FitThreshold(ctx context.Context, examples []LabeledPrompt) (*ThresholdFit, error) {
	r := p.semantic
	if r == nil {
		return nil, errors.New("aiproxy: FitThreshold needs balancer.algorithm semantic")
	}
	if len(examples) == 0 {
		return nil, errors.New("aiproxy: FitThreshold needs examples")
	}
	known := map[string]bool{Catchall: true, "": true}
	for _, g := range r.groups {
		known[g.description] = true
	}
	type scored struct {
		nearest string
		dist    float64
	}
	scores := make([]scored, len(examples))
	for i, ex := range examples {
		if !known[ex.Want] {
			return nil, fmt.Errorf("aiproxy: example %d wants %q, which is no target's description", i, ex.Want)
		}
		g, d, err := r.nearest(ctx, ex.Prompt)
		if err != nil {
			return nil, fmt.Errorf("aiproxy: example %d: %w", i, err)
		}
		scores[i] = scored{nearest: Catchall, dist: d}
		if g != nil {
			scores[i].nearest = g.description
		}
	}
	correct := func(i int, threshold float64) bool {
		s, want := scores[i], examples[i].Want
		if want == "" || want == Catchall {
			return s.dist > threshold
		}
		return s.nearest == want && s.dist <= threshold
	}
	count := func(threshold float64) (n int) {
		for i := range examples {
			if correct(i, threshold) {
				n++
			}
		}
		return n
	}
	// The count changes only at the examples' distances: interval k is [cuts[k-1], cuts[k]),
	// from 0 for k = 0 (empty when a distance is 0) and unbounded for the last.
	cuts := make([]float64, 0, len(scores))
	for _, s := range scores {
		cuts = append(cuts, s.dist)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	counts := make([]int, len(cuts)+1)
	counts[0] = count(cuts[0] / 2)
	if cuts[0] <= 0 {
		counts[0] = -1
	}
	for i, c := range cuts {
		counts[i+1] = count(c)
	}
	// The first best interval, with the ones after it that do as well: one interval of thresholds.
	first := 0
	for k, n := range counts {
		if n > counts[first] {
			first = k
		}
	}
	last := first
	for last+1 < len(counts) && counts[last+1] == counts[first] {
		last++
	}
	fit := &ThresholdFit{Correct: counts[first], Total: len(examples)}
	switch {
	case first == 0:
		fit.Threshold = cuts[last] / 2
		if last == len(cuts) {
			fit.Threshold = cuts[0] / 2
		}
	case last == len(cuts):
		fit.Threshold = cuts[first-1]
	default:
		fit.Threshold = (cuts[first-1] + cuts[last]) / 2
	}
	for i, ex := range examples {
		if !correct(i, fit.Threshold) {
			got := Catchall
			if scores[i].dist <= fit.Threshold {
				got = scores[i].nearest
			}
			fit.Misses = append(fit.Misses, Miss{LabeledPrompt: ex, Got: got, Distance: scores[i].dist})
		}
	}
	return fit, nil
}
