// Package semroute decides which target a prompt goes to from what each target's
// description and examples say, beyond Kong's nearest-description rule: the vector signal is
// the mean similarity of the prompt to the target's K nearest texts (kNN, so one stray
// example does not capture prompts; the nearest, for a target without examples), a lexical
// signal is BM25 of the prompt's words against the target's texts taken as one document, a
// classifier signal is the probability that a multinomial logistic regression over texts'
// vectors, words and character n-grams, fitted at New to every target's texts, gives the
// target; their combined score is reduced by a share of the best other target's (a margin:
// a prompt two targets claim alike is less sure), and the acceptance threshold is
// calibrated from the examples themselves: the net score that a given share of them reach
// when each is scored as a prompt would be, left out of its own target (for the classifier:
// scored by one fitted without it, cross-fitting over Options.Folds folds). (One threshold per target,
// calibrated the same way from that target's examples alone, was measured worse on the
// intent sets of embed/offline/internal/intenteval: targets with tight examples then reject
// prompts that a looser target would have accepted at the same score.)
//
// It is self-contained: vectors in, a decision out. It knows nothing of embedders, stores
// or HTTP; the semantic balancer fits a Router at start from the vectors it embedded and
// calls Route for each prompt.
package semroute

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Target is what one routing target offers: texts and their vectors, in the same order.
// Vectors need not have unit length: the Router compares directions (cosine similarity).
type Target struct {
	// Texts are the target's description, then its examples, then texts that score but
	// do not calibrate the threshold, such as the phrases of a description that lists
	// topics.
	Texts   []string
	Vectors [][]float32
	// Examples is how many of Texts, after the first, are examples. A target without
	// examples scores by its nearest text (K is 1 for it).
	Examples int
}

// Options tune a Router. The zero value means the defaults documented on each field.
type Options struct {
	// K is how many of a target's nearest texts its vector signal averages. 0 means 5;
	// a target with fewer texts averages all of them, one without examples takes its
	// nearest.
	K int
	// Lexical is the weight of the BM25 signal in the combined score (1 − Lexical is the
	// vector signal's). 0 means 0.5; a negative value turns the lexical signal off.
	Lexical float64
	// Margin is the share of the best other target's combined score that is subtracted
	// from a target's before the threshold applies, so that a prompt that two targets
	// claim alike is less sure than one that only one target claims. 0 means 0.5; a
	// negative value turns it off.
	Margin float64
	// Quantile is the share of the examples, each scored as Route would with itself left
	// out of its target, that the threshold rejects: 0 means 0.25. With fewer than MinExamples
	// examples in all, Fallback is the threshold instead.
	Quantile float64
	// MinExamples is how many examples (over all targets) a calibrated threshold needs. 0
	// means 10.
	MinExamples int
	// Fallback is the combined-score threshold when there are too few examples to
	// calibrate one. 0 means 0.
	Fallback float64
	// Classifier is the weight of the classifier signal: the probability that a
	// logistic-regression classifier over texts' vectors, words and character n-grams, fitted
	// at New to every target's texts, gives the target. The vector and lexical signals share the rest. 0
	// means 0.25; a negative value turns it off (and skips the fitting).
	Classifier float64
	// Lambda is the classifier's L2 penalty. 0 means 0.001.
	Lambda float64
	// Iterations is how many gradient steps (with momentum) fit the classifier. 0 means 60.
	Iterations int
	// Folds is how many classifiers, each fitted without a share of the examples,
	// score the examples left out for the threshold's calibration (cross-fitting: an
	// example scored by a classifier that saw it would look surer than a prompt). 0 means 4.
	// Above 1,000 examples, 1,000 of them calibrate, and fewer classifiers score them (one
	// from 4,000 examples), each still fitted without at most a Folds-th of the examples;
	// and each gradient step visits at most 1,024 texts (mini-batches), so that fitting stays
	// under a second for 5,000 texts in 50 targets.
	Folds int
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
	switch {
	case o.Margin == 0:
		o.Margin = 0.5
	case o.Margin < 0:
		o.Margin = 0
	}
	if o.Quantile <= 0 {
		o.Quantile = 0.25
	}
	if o.MinExamples <= 0 {
		o.MinExamples = 10
	}
	switch {
	case o.Classifier == 0:
		o.Classifier = 0.25
	case o.Classifier < 0:
		o.Classifier = 0
	}
	if o.Lambda <= 0 {
		o.Lambda = 1e-3
	}
	if o.Iterations <= 0 {
		o.Iterations = 60
	}
	if o.Folds <= 1 {
		o.Folds = 4
	}
	return o
}

// Router routes prompts among targets. It is immutable and safe for concurrent use.
type Router struct {
	opts      Options
	dims      int
	maxTexts  int       // the most texts of one target
	vecs      []float32 // every text's vector, unit length, flat
	targets   []target
	lex       lexicon
	clf       *classifier // nil when Options.Classifier is off
	gramFeat  []int32     // by n-gram bucket: its classifier feature, or -1 (see gramFeatures)
	threshold float64     // on the combined score
}

type target struct {
	first, n int // its texts are [first, first+n)
	examples int // texts [first+1, first+1+examples) are examples
	k        int // how many nearest texts the vector signal averages
}

// New fits a Router to targets: it indexes their texts and calibrates the threshold from
// their examples. It copies the vectors.
func New(targets []Target, opts Options) (*Router, error) {
	if len(targets) == 0 {
		return nil, errors.New("semroute: no targets")
	}
	r := &Router{opts: opts.withDefaults(), targets: make([]target, len(targets))}
	ids := map[string]int32{}
	docs := make([][]int32, len(targets))    // by target: the word ids of all its texts
	words := make([][][]int32, len(targets)) // by target and text
	var buf []byte
	for i, t := range targets {
		if len(t.Texts) == 0 || len(t.Texts) != len(t.Vectors) || t.Examples < 0 || t.Examples >= len(t.Texts) {
			return nil, fmt.Errorf("semroute: target %d has %d texts, %d vectors and %d examples", i, len(t.Texts), len(t.Vectors), t.Examples)
		}
		r.targets[i] = target{first: len(r.vecs) / max(r.dims, 1), n: len(t.Texts), examples: t.Examples, k: r.opts.K}
		if t.Examples == 0 {
			r.targets[i].k = 1
		}
		r.maxTexts = max(r.maxTexts, len(t.Texts))
		for j, v := range t.Vectors {
			if r.dims == 0 {
				r.dims = len(v)
			}
			if len(v) != r.dims || r.dims == 0 {
				return nil, fmt.Errorf("semroute: target %d text %d has a vector of %d values, want %d", i, j, len(v), r.dims)
			}
			r.vecs = append(r.vecs, v...)
			unitize(r.vecs[len(r.vecs)-r.dims:])
			var text []int32
			buf = eachWord(t.Texts[j], buf, func(w []byte) {
				id, ok := ids[string(w)]
				if !ok {
					id = int32(len(ids))
					ids[string(w)] = id
				}
				text = append(text, id)
			})
			words[i] = append(words[i], text)
			docs[i] = append(docs[i], text...)
		}
	}
	var bm25Docs []bm25Doc
	r.lex, bm25Docs = newLexicon(ids, docs)
	calib, nfolds := r.calibration(r.opts.Folds)
	var folds []*classifier // by fold
	var samples []sample
	if r.opts.Classifier > 0 {
		r.gramFeat = make([]int32, gramBuckets)
		for b := range r.gramFeat {
			r.gramFeat[b] = -1
		}
		features := int32(len(ids)) // the words', then the n-grams' as they come
		for i, tg := range r.targets {
			for j := range tg.n {
				samples = append(samples, r.sample(i, tg.first+j, words[i][j], targets[i].Texts[j], &features))
			}
		}
		o := r.opts
		r.clf = fitClassifier(samples, nil, len(targets), r.dims, int(features), o.Iterations, o.Lambda, classifierRate)
		if nfolds > 0 {
			skip := make([]bool, len(samples))
			for f := range nfolds {
				for k := range skip {
					skip[k] = calib[k] == f
				}
				folds = append(folds, fitClassifier(samples, skip, len(targets), r.dims, int(features), o.Iterations, o.Lambda, classifierRate))
			}
		}
	}
	r.threshold = r.calibrate(words, bm25Docs, calib, folds, samples)
	return r, nil
}

// maxCalibration is the most examples the threshold's calibration scores: with more, an
// evenly spread share of them (the quantile of a thousand scores is precise enough), so that
// calibrating costs at most maxCalibration × texts × dimensions, and the classifiers that
// score them are fewer (see calibration).
const maxCalibration = 1000

// calibration picks the examples that calibrate the threshold and the fold of each: by text,
// the classifier (of nfolds) fitted without it that scores it, or -1 for a text that is not
// scored. Example e of all is picked when e·C mod E < C, C = maxCalibration examples of the E,
// all of them when E ≤ C; the picked are dealt in turn to nfolds folds of at most E/folds
// examples each, so that every fold's classifier is fitted without at most a folds-th of the
// examples (nfolds = folds up to maxCalibration examples, then fewer: one from 4·C). nfolds is
// 0 with fewer than MinExamples examples.
func (r *Router) calibration(folds int) (calib []int, nfolds int) {
	total := 0
	for _, tg := range r.targets {
		total += tg.examples
	}
	c := max(maxCalibration, r.opts.MinExamples)
	nfolds = folds
	if total > c {
		nfolds = min(folds, (folds*c+total-1)/total)
	}
	if total < r.opts.MinExamples {
		nfolds = 0
	}
	calib = make([]int, 0, total+len(r.targets))
	e, picked := 0, 0
	for _, tg := range r.targets {
		for j := range tg.n {
			f := -1
			if j >= 1 && j <= tg.examples {
				if total <= c || e*c%total < c {
					f, picked = picked%max(nfolds, 1), picked+1
				}
				e++
			}
			calib = append(calib, f)
		}
	}
	return calib, nfolds
}

// wordScale is the weight of a one-word text's word in the classifier's features (a
// text's vector has length 1). 2 was better than 0.5, 1 and 4 on the intent sets' dev parts.
const wordScale = 2.0

// classifierRate is the classifier's gradient step.
const classifierRate = 2.0

// sample is text k of target i, whose words are ids, as the classifier trains on it: its
// vector, its distinct words, and wordScale/√(its number of words) as their weight, and its
// words' n-grams, the new ones numbered from *next.
func (r *Router) sample(i, k int, ids []int32, text string, next *int32) sample {
	s := sample{vec: r.vec(k), class: i}
	eachWord(text, nil, func(w []byte) { s.grams = appendGrams(s.grams, w) })
	s.grams, s.gscale = gramFeatures(s.grams, r.gramFeat, next)
	for _, id := range ids {
		if !slices.Contains(s.words, id) {
			s.words = append(s.words, id)
		}
	}
	if len(ids) > 0 {
		s.scale = wordScale / math.Sqrt(float64(len(ids)))
	}
	return s
}

// unitize scales v to unit length (a zero vector stays zero).
func unitize(v []float32) {
	if n := math.Sqrt(dot(v, v)); n > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / n)
		}
	}
}

// calibrate scores each example that calib picks as Route would, its own target's texts but itself standing
// for that target, and returns the Quantile-th lowest net score, or Fallback with fewer
// than MinExamples examples.
func (r *Router) calibrate(words [][][]int32, docs []bm25Doc, calib []int, folds []*classifier, samples []sample) float64 {
	var scores, sims []float64
	probs := make([]float64, len(r.targets))
	for i, tg := range r.targets {
		for j := 1; j <= tg.examples; j++ {
			f := calib[tg.first+j]
			if f < 0 {
				continue
			}
			v := r.vec(tg.first + j)
			if folds != nil {
				s := samples[tg.first+j]
				folds[f].probs(s.vec, 1, s.words, s.scale, s.grams, s.gscale, probs)
			}
			own, rival := 0.0, math.Inf(-1)
			for u, other := range r.targets {
				sims = sims[:0]
				for k := range other.n {
					if u != i || k != j {
						sims = append(sims, dot(v, r.vec(other.first+k)))
					}
				}
				doc := docs[u]
				if u == i {
					doc = doc.without(words[i][j])
				}
				score := r.combine(topMean(sims, other.k), r.lex.scoreDoc(words[i][j], doc), probs[u])
				if u == i {
					own = score
				} else {
					rival = max(rival, score)
				}
			}
			if len(r.targets) == 1 {
				rival = 0
			}
			scores = append(scores, own-r.opts.Margin*rival)
		}
	}
	if len(scores) < r.opts.MinExamples {
		return r.opts.Fallback
	}
	slices.Sort(scores)
	return scores[int(r.opts.Quantile*float64(len(scores)))]
}

// Threshold is the net score (see Signals) a prompt's best target needs to accept it.
func (r *Router) Threshold() float64 { return r.threshold }

func (r *Router) vec(k int) []float32 { return r.vecs[k*r.dims : (k+1)*r.dims] }

func (r *Router) combine(vector, lexical, class float64) float64 {
	c := r.opts.Classifier
	return (1-c)*((1-r.opts.Lexical)*vector+r.opts.Lexical*lexical) + c*class
}

// Signals are one target's scores for a prompt.
type Signals struct {
	// Vector is the mean cosine similarity of the prompt to the target's K nearest texts
	// (its nearest, for a target without examples).
	Vector float64
	// Lexical is BM25 of the prompt against the target's texts, divided by the most the
	// prompt's words could score (1: every word matches as well as it could), in [0, 1).
	Lexical float64
	// Classifier is the probability the classifier gives the target (0 when it is off).
	Classifier float64
	// Score combines them: (1 − c)·((1 − Options.Lexical)·Vector + Options.Lexical·Lexical)
	// + c·Classifier, c being Options.Classifier.
	Score float64
	// Net is Score less Options.Margin times the highest Score of the other targets: what
	// the threshold applies to. Targets rank alike by Score and by Net.
	Net float64
}

// Decision is a Router's answer for one prompt. Reusing one for many prompts makes Route
// allocate nothing.
type Decision struct {
	// Best is the index of the target with the highest Score (whatever the threshold).
	Best int
	// Accepted reports Best's Net ≥ the Router's Threshold; false means CATCHALL.
	Accepted bool
	// Targets holds every target's signals, by index.
	Targets []Signals

	sims  []float64 // scratch: one target's similarities
	buf   []byte    // scratch: a word of the prompt
	ids   []int32   // scratch: the prompt's distinct known words
	grams []int32   // scratch: the prompt's n-gram buckets
	p     []float64 // scratch: class probabilities
}

// Dimensions is the length of the targets' vectors, which Route's must have.
func (r *Router) Dimensions() int { return r.dims }

// Route scores the prompt's vector and text against every target. It reuses d's storage.
// It panics when vec has not Dimensions() values.
func (r *Router) Route(vec []float32, text string, d *Decision) {
	if len(vec) != r.dims {
		panic(fmt.Sprintf("semroute: a prompt vector of %d values, want %d", len(vec), r.dims))
	}
	n := len(r.targets)
	if cap(d.Targets) < n {
		d.Targets = make([]Signals, n)
	}
	d.Targets = d.Targets[:n]
	clear(d.Targets)
	if cap(d.sims) < r.maxTexts {
		d.sims = make([]float64, r.maxTexts)
	}
	inv := 0.0
	if qn := math.Sqrt(dot(vec, vec)); qn > 0 {
		inv = 1 / qn
	}
	if r.opts.Lexical > 0 || r.clf != nil {
		// Targets[i].Lexical sums the BM25 term scores first, then is divided by the most.
		var most float64
		nw := 0
		d.ids = d.ids[:0]
		d.grams = d.grams[:0]
		d.buf = eachWord(text, d.buf, func(w []byte) {
			nw++
			if r.clf != nil {
				d.grams = appendGrams(d.grams, w)
			}
			id, ok := r.lex.ids[string(w)]
			if !ok {
				most += r.lex.unseen * (bm25K1 + 1)
				return
			}
			d.ids = append(d.ids, id)
			most += r.lex.idf[id] * (bm25K1 + 1)
			for _, p := range r.lex.post[id] {
				d.Targets[p.target].Lexical += p.score
			}
		})
		for i := range d.Targets {
			if most > 0 && r.opts.Lexical > 0 {
				d.Targets[i].Lexical /= most
			} else {
				d.Targets[i].Lexical = 0
			}
		}
		if r.clf != nil {
			if cap(d.p) < n {
				d.p = make([]float64, n)
			}
			d.p = d.p[:n]
			slices.Sort(d.ids) // distinct words, in O(n log n) for long prompts
			d.ids = slices.Compact(d.ids)
			scale := 0.0
			if nw > 0 {
				scale = wordScale / math.Sqrt(float64(nw))
			}
			var gscale float64
			d.grams, gscale = gramFeatures(d.grams, r.gramFeat, nil)
			r.clf.probs(vec, inv, d.ids, scale, d.grams, gscale, d.p)
			for i := range d.Targets {
				d.Targets[i].Classifier = d.p[i]
			}
		}
	}
	d.Best = 0
	second := -1 // the runner-up
	for i, tg := range r.targets {
		s := d.sims[:tg.n]
		r.sims(vec, tg, s)
		sig := &d.Targets[i]
		sig.Vector = topMean(s, tg.k) * inv
		sig.Score = r.combine(sig.Vector, sig.Lexical, sig.Classifier)
		switch {
		case i == 0:
		case sig.Score > d.Targets[d.Best].Score:
			d.Best, second = i, d.Best
		case second < 0 || sig.Score > d.Targets[second].Score:
			second = i
		}
	}
	for i := range d.Targets {
		switch {
		case i != d.Best:
			d.Targets[i].Net = d.Targets[i].Score - r.opts.Margin*d.Targets[d.Best].Score
		case second >= 0:
			d.Targets[i].Net = d.Targets[i].Score - r.opts.Margin*d.Targets[second].Score
		default: // the only target
			d.Targets[i].Net = d.Targets[i].Score
		}
	}
	d.Accepted = d.Targets[d.Best].Net >= r.threshold
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

// sims sets s[k] to the dot product of vec with target tg's text k, four texts at a time
// so that each of vec's values is loaded once for four products.
func (r *Router) sims(vec []float32, tg target, s []float64) {
	k := 0
	for ; k+4 <= tg.n; k += 4 {
		block := r.vecs[(tg.first+k)*r.dims : (tg.first+k+4)*r.dims]
		v0, v1, v2, v3 := block[:len(vec)], block[len(vec):2*len(vec)], block[2*len(vec):3*len(vec)], block[3*len(vec):4*len(vec)]
		var s0, s1, s2, s3 float32
		for i, q := range vec {
			s0 += q * v0[i]
			s1 += q * v1[i]
			s2 += q * v2[i]
			s3 += q * v3[i]
		}
		s[k], s[k+1], s[k+2], s[k+3] = float64(s0), float64(s1), float64(s2), float64(s3)
	}
	for ; k < tg.n; k++ {
		s[k] = dot(vec, r.vec(tg.first+k))
	}
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
// and digits, a plural "s" dropped from words of more than three letters, and "ing", "ed" and
// a final "e" from longer words (see stemWord).
func Tokenize(text string) []string {
	var words []string
	eachWord(text, nil, func(w []byte) { words = append(words, string(w)) })
	return words
}
