package semroute

import (
	"math"
	"math/rand/v2"
)

// classifier is a multinomial logistic regression over a text's unit vector and its words
// (each word the text uses, once, weighing wordScale/√(its number of words)), fitted at New to the
// targets' texts by full-batch gradient descent from zero weights: deterministic, and a few
// milliseconds for hundreds of examples.
type classifier struct {
	classes, dims, words int
	w                    []float32 // by class: dims vector weights, then words word weights
	b                    []float64
}

// sample is one training text: its unit vector and its distinct known word ids.
type sample struct {
	vec   []float32
	words []int32
	scale float64 // the weight of each word feature
	class int
}

// maxBatch is the most samples one gradient step of the classifier's fitting visits. With
// more, each step takes the next maxBatch of them in a fixed shuffled order (mini-batches), so
// that fitting costs at most iters × maxBatch × classes × (dims + a text's words) whatever
// the number of texts.
const maxBatch = 1024

// fitClassifier trains on samples (skip[i] true: left out) for iters steps of gradient
// descent with L2 penalty lambda: full-batch up to maxBatch samples, mini-batches beyond.
func fitClassifier(samples []sample, skip []bool, classes, dims, words, iters int, lambda, rate float64) *classifier {
	stride := dims + words
	w := make([]float32, classes*stride)
	b := make([]float64, classes)
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
			for c := range classes {
				row := w[c*stride : (c+1)*stride]
				v := b[c] + dot(s.vec, row[:dims])
				for _, id := range s.words {
					v += float64(row[dims+int(id)]) * s.scale
				}
				z[c] = v
			}
			softmax(z)
			for c := range classes {
				g := z[c]
				if c == s.class {
					g--
				}
				gb[c] += g
				row := gw[c*stride : (c+1)*stride]
				g32 := float32(g)
				dense := row[:len(s.vec)]
				for j, x := range s.vec {
					dense[j] += g32 * x
				}
				gs := float32(g * s.scale)
				for _, id := range s.words {
					row[dims+int(id)] += gs
				}
			}
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
	return &classifier{classes: classes, dims: dims, words: words, w: w, b: b}
}

// probs sets p to the class probabilities of a text with unit vector vec (times inv) and
// distinct word ids ids.
func (m *classifier) probs(vec []float32, inv float64, ids []int32, scale float64, p []float64) {
	stride := m.dims + m.words
	for c := range m.classes {
		row := m.w[c*stride : (c+1)*stride]
		v := dot(vec, row[:m.dims]) * inv
		for _, id := range ids {
			v += float64(row[m.dims+int(id)]) * scale
		}
		p[c] = m.b[c] + v
	}
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
