// Package semroute decides which target a prompt goes to from what each target's
// description and examples say, beyond Kong's nearest-description rule: the vector signal is
// the mean similarity of the prompt to the target's K nearest texts (kNN, so one stray
// example does not capture prompts), a lexical signal is BM25 of the prompt's words against
// the target's texts taken as one document, and the acceptance threshold is calibrated from
// the examples themselves: the combined score that a given share of them reach when each is
// scored leave-one-out against the rest of its target's texts. (One threshold per target,
// calibrated the same way from that target's examples alone, was measured worse on the
// intent sets of embed/offline/internal/intenteval: targets with tight examples then
// reject prompts that a looser target would have accepted at the same score.)
//
// It is self-contained: vectors in, a decision out. It knows nothing of embedders, stores
// or HTTP; the semantic balancer fits a Router at start from the vectors it embedded and
// calls Route for each prompt.
package semroute

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Target is what one routing target offers: texts (its description, then its examples) and
// their unit-length vectors, in the same order.
type Target struct {
	Texts   []string
	Vectors [][]float32
}

// Options tune a Router. The zero value means the defaults documented on each field.
type Options struct {
	// K is how many of a target's nearest texts its vector signal averages. 0 means 5;
	// a target with fewer texts averages all of them.
	K int
	// Lexical is the weight of the BM25 signal in the combined score (1 − Lexical is the
	// vector signal's). 0 means 0.5; a negative value turns the lexical signal off.
	Lexical float64
	// Quantile is the share of the examples, each scored leave-one-out against its target's
	// other texts, that the threshold rejects: 0 means 0.25. With fewer than MinExamples
	// examples in all, Fallback is the threshold instead.
	Quantile float64
	// MinExamples is how many examples (over all targets) a calibrated threshold needs. 0
	// means 10.
	MinExamples int
	// Fallback is the combined-score threshold when there are too few examples to
	// calibrate one. 0 means 0.
	Fallback float64
}

func (o Options) withDefaults() Options {
	if o.K <= 0 {
		o.K = 5
	}
	switch {
	case o.Lexical == 0:
		o.Lexical = 0.5
	case o.Lexical < 0:
		o.Lexical = 0
	}
	if o.Quantile <= 0 {
		o.Quantile = 0.25
	}
	if o.MinExamples <= 0 {
		o.MinExamples = 10
	}
	return o
}

// Router routes prompts among targets. It is immutable and safe for concurrent use.
type Router struct {
	opts      Options
	dims      int
	maxTexts  int       // the most texts of one target
	vecs      []float32 // every text's vector, flat
	targets   []target
	lex       lexicon
	threshold float64 // on the combined score
}

type target struct {
	first, n int // its texts are [first, first+n)
	doc      bm25Doc
}

// New fits a Router to targets: it indexes their texts and calibrates the threshold from
// their examples.
func New(targets []Target, opts Options) (*Router, error) {
	if len(targets) == 0 {
		return nil, errors.New("semroute: no targets")
	}
	r := &Router{opts: opts.withDefaults(), targets: make([]target, len(targets))}
	var docs [][]string
	for i, t := range targets {
		if len(t.Texts) == 0 || len(t.Texts) != len(t.Vectors) {
			return nil, fmt.Errorf("semroute: target %d has %d texts and %d vectors", i, len(t.Texts), len(t.Vectors))
		}
		r.targets[i].first, r.targets[i].n = len(r.vecs)/max(r.dims, 1), len(t.Texts)
		r.maxTexts = max(r.maxTexts, len(t.Texts))
		var words []string
		for j, v := range t.Vectors {
			if r.dims == 0 {
				r.dims = len(v)
			}
			if len(v) != r.dims || r.dims == 0 {
				return nil, fmt.Errorf("semroute: target %d text %d has a vector of %d values, want %d", i, j, len(v), r.dims)
			}
			r.vecs = append(r.vecs, v...)
			words = append(words, Tokenize(t.Texts[j])...)
		}
		docs = append(docs, words)
	}
	r.lex = newLexicon(docs)
	for i := range r.targets {
		r.targets[i].doc = r.lex.doc(docs[i])
	}
	r.threshold = r.calibrate(targets)
	return r, nil
}

// calibrate scores each example (each text but a target's first, its description) against
// its target's other texts and returns the Quantile-th lowest score, or Fallback with fewer
// than MinExamples examples.
func (r *Router) calibrate(targets []Target) float64 {
	var scores, sims []float64
	for i, t := range targets {
		tg := &r.targets[i]
		for j := 1; j < len(t.Texts); j++ {
			sims = sims[:0]
			for k := range tg.n {
				if k != j {
					sims = append(sims, dot(t.Vectors[j], r.vec(tg.first+k)))
				}
			}
			words := Tokenize(t.Texts[j])
			lex := r.lex.score(r.lex.query(words), tg.doc.without(r.lex.doc(words)))
			scores = append(scores, r.combine(topMean(sims, r.opts.K), lex))
		}
	}
	if len(scores) < r.opts.MinExamples {
		return r.opts.Fallback
	}
	slices.Sort(scores)
	return scores[int(r.opts.Quantile*float64(len(scores)))]
}

// Threshold is the combined score a prompt's best target needs to accept it.
func (r *Router) Threshold() float64 { return r.threshold }

func (r *Router) vec(k int) []float32 { return r.vecs[k*r.dims : (k+1)*r.dims] }

func (r *Router) combine(vector, lexical float64) float64 {
	return (1-r.opts.Lexical)*vector + r.opts.Lexical*lexical
}

// Signals are one target's scores for a prompt.
type Signals struct {
	// Vector is the mean cosine similarity of the prompt to the target's K nearest texts.
	Vector float64
	// Lexical is BM25 of the prompt against the target's texts, divided by the most the
	// prompt's words could score (1: every word matches as well as it could), in [0, 1].
	Lexical float64
	// Score combines them: (1 − Options.Lexical)·Vector + Options.Lexical·Lexical.
	Score float64
}

// Decision is a Router's answer for one prompt.
type Decision struct {
	// Best is the index of the target with the highest Score (whatever its threshold),
	// -1 when there are no texts to compare with.
	Best int
	// Accepted reports Best's Score ≥ the Router's Threshold; false means CATCHALL.
	Accepted bool
	// Targets holds every target's signals, by index.
	Targets []Signals

	sims []float64 // scratch
}

// Route scores the prompt's unit-length vector and text against every target. It reuses
// d's storage.
func (r *Router) Route(vec []float32, text string, d *Decision) {
	if cap(d.Targets) < len(r.targets) {
		d.Targets = make([]Signals, len(r.targets))
	}
	d.Targets = d.Targets[:len(r.targets)]
	if cap(d.sims) < r.maxTexts {
		d.sims = make([]float64, r.maxTexts)
	}
	d.Best, d.Accepted = -1, false
	q := r.lex.query(Tokenize(text))
	for i := range r.targets {
		tg := &r.targets[i]
		s := d.sims[:0]
		for k := range tg.n {
			s = append(s, dot(vec, r.vec(tg.first+k)))
		}
		sig := Signals{Vector: topMean(s, r.opts.K)}
		if r.opts.Lexical > 0 {
			sig.Lexical = r.lex.score(q, tg.doc)
		}
		sig.Score = r.combine(sig.Vector, sig.Lexical)
		d.Targets[i] = sig
		if d.Best < 0 || sig.Score > d.Targets[d.Best].Score {
			d.Best = i
		}
	}
	if d.Best >= 0 {
		d.Accepted = d.Targets[d.Best].Score >= r.threshold
	}
}

// topMean is the mean of the k largest of s (all of them when there are fewer); it
// reorders s.
func topMean(s []float64, k int) float64 {
	if len(s) == 0 {
		return 0
	}
	k = min(k, len(s))
	top := s[:k] // kept in descending order; s[k:] is scanned for larger values
	slices.SortFunc(top, func(a, b float64) int { return cmpDesc(a, b) })
	for _, v := range s[k:] {
		if v <= top[k-1] {
			continue
		}
		j := k - 1
		for ; j > 0 && top[j-1] < v; j-- {
			top[j] = top[j-1]
		}
		top[j] = v
	}
	var sum float64
	for _, v := range top {
		sum += v
	}
	return sum / float64(k)
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func dot(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return float64((s0 + s1) + (s2 + s3))
}

// Tokenize splits text into the words the lexical signal compares: lower case, letters
// and digits, a plural "s" dropped from words of more than three letters.
func Tokenize(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for i, w := range words {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			words[i] = w[:len(w)-1]
		}
	}
	return words
}
