package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/embed/offline/internal/core"
	"github.com/aiproxy/aiproxy/internal/ngram"
)

// packFlags are the knobs of the geometry; their defaults are the shipped model's.
type packFlags struct {
	vocab   int     // keep the most frequent words
	sifA    float64 // SIF weight a/(a+p(w))
	pcs     int     // common directions removed from text vectors
	buckets int     // character n-gram buckets for unknown words
	oov     float64 // weight of an unknown word
	unit    bool    // normalise word vectors before weighting
	sample  int     // every sample-th corpus line is used to find the common directions
	dims    int     // keep this many principal axes of the word vectors (0: all)
}

func pack(args []string) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	var pf packFlags
	fs.IntVar(&pf.vocab, "vocab", 30000, "vocabulary size")
	fs.Float64Var(&pf.sifA, "a", 1e-2, "SIF a")
	fs.IntVar(&pf.pcs, "pcs", 0, "common directions removed")
	fs.IntVar(&pf.buckets, "buckets", 10000, "n-gram buckets")
	fs.Float64Var(&pf.oov, "oov", 1, "unknown word weight")
	fs.BoolVar(&pf.unit, "unit", false, "unit word vectors")
	fs.IntVar(&pf.dims, "dims", 64, "principal axes kept (0: all)")
	fs.IntVar(&pf.sample, "sample", 10, "corpus line sampling period for the common directions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 3 {
		return fmt.Errorf("pack [flags] VECTORS.vec CORPUS.txt OUT.bin")
	}
	vecPath, corpusPath, out := fs.Arg(0), fs.Arg(1), fs.Arg(2)

	words, vecs, err := readVec(vecPath)
	if err != nil {
		return err
	}
	dim := len(vecs[0])
	counts, total, lines, err := countCorpus(corpusPath, pf.sample)
	if err != nil {
		return err
	}
	if pf.unit {
		for _, v := range vecs {
			normalise(v)
		}
	}
	weight := func(w string) float64 {
		if stopWords[w] {
			return 0
		}
		return pf.sifA / (pf.sifA + float64(counts[w])/float64(total))
	}
	// Centre on the mean of the word vectors as they occur in text (count × weight).
	mean := make([]float64, dim)
	var wsum float64
	for i, w := range words {
		c := float64(counts[w]) * weight(w)
		for j, x := range vecs[i] {
			mean[j] += c * float64(x)
		}
		wsum += c
	}
	for j := range mean {
		mean[j] /= wsum
	}
	var row []float32
	centred := make([][]float32, len(words))
	for i, v := range vecs {
		c := make([]float32, dim)
		for j, x := range v {
			c[j] = float32(float64(x) - mean[j])
		}
		centred[i] = c
	}

	if pf.dims > 0 && pf.dims < dim {
		centred = project(centred, pf.dims)
		dim = pf.dims
		row = nil
	}

	m := &core.Model{Dim: dim, OOVWeight: float32(pf.oov)}
	keep := min(pf.vocab, len(words))
	row = make([]float32, dim)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if i >= keep && !stopWords[w] {
			continue
		}
		m.Words = append(m.Words, w)
		wt := float32(weight(w))
		for j, x := range centred[i] {
			row[j] = wt * x
		}
		q := make([]int8, dim)
		m.Scales = append(m.Scales, core.Quantise(row, q))
		m.Rows = append(m.Rows, q...)
	}
	for w := range stopWords { // stop words absent from the vectors still read as stop words
		if !contains(words, w) {
			m.Words = append(m.Words, w)
			m.Scales = append(m.Scales, 0)
			m.Rows = append(m.Rows, make([]int8, dim)...)
		}
	}
	sortTail(m, keep)

	// Buckets: the mean centred vector of every known word that has the n-gram.
	sums := make([][]float64, pf.buckets)
	cnt := make([]int, pf.buckets)
	for i, w := range words {
		if stopWords[w] || len(w) < 3 {
			continue
		}
		ngram.Each([]byte(w), uint32(pf.buckets), func(b uint32) {
			if sums[b] == nil {
				sums[b] = make([]float64, dim)
			}
			for j, x := range centred[i] {
				sums[b][j] += float64(x)
			}
			cnt[b]++
		})
	}
	m.BScales = make([]float32, pf.buckets)
	m.BRows = make([]int8, pf.buckets*dim)
	for b := range sums {
		if cnt[b] == 0 {
			continue
		}
		for j := range row {
			row[j] = float32(sums[b][j] / float64(cnt[b]))
		}
		m.BScales[b] = core.Quantise(row, m.BRows[b*dim:(b+1)*dim])
	}

	// Common directions of text vectors (the first principal components of sampled lines).
	m.Index()
	if pf.pcs > 0 {
		cov := make([]float64, dim*dim)
		e := make([]float32, dim+1)
		for _, line := range lines {
			m.Embed(line, e)
			for a := 0; a < dim; a++ {
				for b := 0; b < dim; b++ {
					cov[a*dim+b] += float64(e[a]) * float64(e[b])
				}
			}
		}
		for _, pc := range topEigen(cov, dim, pf.pcs) {
			for _, x := range pc {
				m.PCs = append(m.PCs, float32(x))
			}
		}
	}
	data := m.Encode()
	fmt.Fprintf(os.Stderr, "pack: %d words (%d kept of %d), %d dims, %d buckets, %d pcs, %d bytes\n",
		len(m.Words), keep, len(words), dim, pf.buckets, pf.pcs, len(data))
	return os.WriteFile(out, data, 0o644)
}

func contains(s []string, w string) bool {
	for _, x := range s {
		if x == w {
			return true
		}
	}
	return false
}

// sortTail keeps the appended stop words in a fixed order (map iteration is random).
func sortTail(m *core.Model, from int) {
	tail := m.Words[from:]
	for i := 1; i < len(tail); i++ {
		for j := i; j > 0 && tail[j] < tail[j-1]; j-- {
			tail[j], tail[j-1] = tail[j-1], tail[j]
		}
	}
	// stop words all have zero rows and zero scales, so only the names needed sorting
}

func readVec(path string) ([]string, [][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // header
	var words []string
	var vecs [][]float32
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] == "</s>" {
			continue
		}
		v := make([]float32, len(f)-1)
		for i, s := range f[1:] {
			x, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return nil, nil, err
			}
			v[i] = float32(x)
		}
		words = append(words, f[0])
		vecs = append(vecs, v)
	}
	return words, vecs, sc.Err()
}

func countCorpus(path string, sample int) (map[string]int, int, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	counts := map[string]int{}
	total := 0
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; sc.Scan(); n++ {
		for _, w := range strings.Fields(sc.Text()) {
			counts[w]++
			total++
		}
		if n%sample == 0 {
			lines = append(lines, sc.Text())
		}
	}
	return counts, total, lines, sc.Err()
}

func normalise(v []float32) {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
}

// topEigen returns the k leading eigenvectors of the symmetric matrix a (power iteration
// with deflation, deterministic start).
func topEigen(a []float64, n, k int) [][]float64 {
	a = append([]float64(nil), a...)
	var out [][]float64
	for c := 0; c < k; c++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1 / math.Sqrt(float64(n)) * (1 + float64(i%7)/10)
		}
		var lambda float64
		for it := 0; it < 1000; it++ {
			w := make([]float64, n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					w[i] += a[i*n+j] * v[j]
				}
			}
			var norm float64
			for _, x := range w {
				norm += x * x
			}
			norm = math.Sqrt(norm)
			if norm == 0 {
				break
			}
			var diff float64
			for i := range w {
				w[i] /= norm
				diff += math.Abs(w[i] - v[i])
			}
			v, lambda = w, norm
			if diff < 1e-12 {
				break
			}
		}
		out = append(out, v)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				a[i*n+j] -= lambda * v[i] * v[j]
			}
		}
	}
	return out
}

// project maps the vectors onto their k principal axes (eigenvectors of their covariance,
// found with the cyclic Jacobi method, which is deterministic).
func project(vs [][]float32, k int) [][]float32 {
	n := len(vs[0])
	cov := make([]float64, n*n)
	for _, v := range vs {
		for a := 0; a < n; a++ {
			for b := a; b < n; b++ {
				cov[a*n+b] += float64(v[a]) * float64(v[b])
			}
		}
	}
	for a := 0; a < n; a++ {
		for b := 0; b < a; b++ {
			cov[a*n+b] = cov[b*n+a]
		}
	}
	vals, vecs := jacobi(cov, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	for i := 1; i < n; i++ { // insertion sort by eigenvalue, descending
		for j := i; j > 0 && vals[order[j]] > vals[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	out := make([][]float32, len(vs))
	for i, v := range vs {
		p := make([]float32, k)
		for c := 0; c < k; c++ {
			col := order[c]
			var s float64
			for a := 0; a < n; a++ {
				s += float64(v[a]) * vecs[a*n+col]
			}
			p[c] = float32(s)
		}
		out[i] = p
	}
	return out
}

// jacobi returns the eigenvalues and eigenvectors (columns) of the symmetric n×n matrix a.
func jacobi(a []float64, n int) ([]float64, []float64) {
	a = append([]float64(nil), a...)
	v := make([]float64, n*n)
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off float64
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				off += a[p*n+q] * a[p*n+q]
			}
		}
		if off < 1e-22 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p] = c*akp - s*akq
					a[k*n+q] = s*akp + c*akq
				}
				for k := 0; k < n; k++ {
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k] = c*apk - s*aqk
					a[q*n+k] = s*apk + c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p] = c*vkp - s*vkq
					v[k*n+q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = a[i*n+i]
	}
	return vals, v
}
