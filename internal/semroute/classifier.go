package semroute

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/aiproxy/aiproxy/internal/ngram"
)

// classifier is a multinomial logistic regression over a text's unit vector, its words
// (each word the text uses, once, weighing wordScale/√(its number of words)) and its words'
// character 3- to 5-grams, hashed (each once, weighing gramScale/√(their number): they let
// "withdrawal", "withdrawing" and a misspelt "witdrawal" share evidence), fitted at New to the
// targets' texts by full-batch gradient descent from zero weights: deterministic, and a few
// milliseconds for hundreds of examples.
type classifier struct {
	classes, dims, words int
	// w holds the vector weights by class (classes × dims), then the word and n-gram
	// weights by feature (words × classes), so that a text's few sparse features each read
	// one short run of memory.
	w []float32
	b []float64
}

// sample is one training text: its unit vector, its distinct known word ids and its distinct
// n-gram features.
type sample struct {
	vec    []float32
	words  []int32
	scale  float64 // the weight of each word feature
	grams  []int32 // n-gram features, numbered after the words
	gscale float64 // the weight of each n-gram feature
	class  int
}

// maxBatch is the most samples one gradient step of the classifier's fitting visits. With
// more, each step takes the next maxBatch of them in a fixed shuffled order (mini-batches), so
// that fitting costs at most iters × maxBatch × classes × (dims + a text's features) whatever
// the number of texts.
const maxBatch = 1024

// fitClassifier trains on samples (skip[i] true: left out) for iters steps of gradient
// descent with L2 penalty lambda: full-batch up to maxBatch samples, mini-batches beyond.
func fitClassifier(samples []sample, skip []bool, classes, dims, words, iters int, lambda, rate float64) *classifier {
	m := &classifier{classes: classes, dims: dims, words: words, w: make([]float32, classes*(dims+words)), b: make([]float64, classes)}
	w, b := m.w, m.b
	gw := make([]float32, len(w))
	gb := make([]float64, classes)
	vw := make([]float32, len(w)) // momentum
	vb := make([]float64, classes)
	z := make([]float64, classes)
	var order []int // the samples trained on
	for i := range samples {
		if skip == nil || !skip[i] {
			order = append(order, i)
		}
	}
	batch := order
	if len(order) > maxBatch {
		rand.New(rand.NewPCG(uint64(len(order)), 14)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		batch = make([]int, maxBatch)
	}
	n := float64(max(len(batch), 1))
	next := 0 // the next sample of order for a mini-batch
	gdense, gsparse := gw[:classes*dims], gw[classes*dims:]
	for it := 0; it < iters; it++ {
		clear(gw)
		clear(gb)
		if len(order) > maxBatch {
			for k := range batch {
				batch[k], next = order[next], (next+1)%len(order)
			}
		}
		for _, i := range batch {
			s := samples[i]
			m.scores(s.vec, 1, s.words, s.scale, s.grams, s.gscale, z)
			softmax(z)
			z[s.class]-- // the gradient of the loss by each class's score
			for c, g := range z {
				gb[c] += g
				g32 := float32(g)
				dense := gdense[c*dims : c*dims+len(s.vec)]
				for j, x := range s.vec {
					dense[j] += g32 * x
				}
			}
			addGradient(gsparse, s.words, s.scale, z)
			addGradient(gsparse, s.grams, s.gscale, z)
		}
		mom, step, decay := float32(classifierMomentum), float32(rate/n), float32(rate*lambda)
		for j := range w {
			vw[j] = mom*vw[j] - step*gw[j] - decay*w[j]
			w[j] += vw[j]
		}
		for c := range b {
			vb[c] = classifierMomentum*vb[c] - rate*gb[c]/n
			b[c] += vb[c]
		}
	}
	return m
}

// addGradient adds the gradient g (by class) of sparse features ids, each weighing scale, to
// their rows of gsparse.
func addGradient(gsparse []float32, ids []int32, scale float64, g []float64) {
	classes := len(g)
	for _, id := range ids {
		row := gsparse[int(id)*classes : int(id)*classes+classes]
		for c, gc := range g {
			row[c] += float32(gc * scale)
		}
	}
}

// scores sets z to the class scores of a text with unit vector vec (times inv), distinct word
// ids ids (each weighing scale) and distinct n-gram features grams (each weighing gscale).
func (m *classifier) scores(vec []float32, inv float64, ids []int32, scale float64, grams []int32, gscale float64, z []float64) {
	for c := range m.classes {
		z[c] = m.b[c] + dot(vec, m.w[c*m.dims:(c+1)*m.dims])*inv
	}
	sparse := m.w[m.classes*m.dims:]
	for _, f := range [2]struct {
		ids   []int32
		scale float64
	}{{ids, scale}, {grams, gscale}} {
		for _, id := range f.ids {
			row := sparse[int(id)*m.classes : int(id)*m.classes+m.classes]
			for c, x := range row {
				z[c] += float64(x) * f.scale
			}
		}
	}
}

// probs sets p to the class probabilities of a text (see scores).
func (m *classifier) probs(vec []float32, inv float64, ids []int32, scale float64, grams []int32, gscale float64, p []float64) {
	m.scores(vec, inv, ids, scale, grams, gscale, p)
	softmax(p)
}

func softmax(z []float64) {
	top := math.Inf(-1)
	for _, v := range z {
		top = max(top, v)
	}
	var sum float64
	for i, v := range z {
		z[i] = math.Exp(v - top)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// classifierMomentum is the heavy-ball momentum of the gradient descent.
var classifierMomentum = 0.8

// gramBuckets is how many hashed character n-gram features the classifier has (2¹² and 2¹⁶
// were within ±0.6 points on the intent sets' dev parts).
const gramBuckets = 1 << 14

// gramScale is the weight of a text's n-gram features, divided by √(their number): 4 was
// better than 0.5, 1, 2 and 3 on the intent sets' dev parts.
const gramScale = 4.0

// appendGrams appends the buckets of word's character n-grams (see package ngram).
func appendGrams(dst []int32, word []byte) []int32 {
	ngram.Each(word, gramBuckets, func(b uint32) { dst = append(dst, int32(b)) })
	return dst
}

// gramFeatures turns a text's n-gram buckets (grams, reordered in place) into its distinct
// n-gram features, the weight of each, and those features: feature[b] is bucket b's, or -1
// for a bucket no training text has, which is left out (its weights would be zero) and, with
// next set, numbered *next instead (fitting).
func gramFeatures(grams []int32, feature []int32, next *int32) ([]int32, float64) {
	slices.Sort(grams)
	grams = slices.Compact(grams)
	if len(grams) == 0 {
		return grams, 0
	}
	scale := gramScale / math.Sqrt(float64(len(grams)))
	out := grams[:0]
	for _, b := range grams {
		f := feature[b]
		if f < 0 {
			if next == nil {
				continue
			}
			f, *next = *next, *next+1
			feature[b] = f
		}
		out = append(out, f)
	}
	return out, scale
}

var minGramWord = 6
