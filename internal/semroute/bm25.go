package semroute

import "math"

// BM25's usual constants.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// lexicon is BM25 over the targets' texts, each target's texts being one document. The
// words of a prompt that no target uses weigh as much as the rarest known word, so that a
// prompt about something else scores low everywhere.
type lexicon struct {
	ids    map[string]int32
	idf    []float64 // by word id
	unseen float64   // the idf of a word no document has
	avgLen float64
}

// bm25Doc is a document: its words' frequencies and its length.
type bm25Doc struct {
	tf  map[int32]float64
	len float64
}

func newLexicon(docs [][]string) lexicon {
	l := lexicon{ids: map[string]int32{}}
	var df []int
	var total int
	for _, d := range docs {
		total += len(d)
		seen := map[int32]bool{}
		for _, w := range d {
			id, ok := l.ids[w]
			if !ok {
				id = int32(len(df))
				l.ids[w] = id
				df = append(df, 0)
			}
			if !seen[id] {
				seen[id] = true
				df[id]++
			}
		}
	}
	n := float64(len(docs))
	idf := func(df int) float64 { return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5)) }
	l.idf = make([]float64, len(df))
	for id, f := range df {
		l.idf[id] = idf(f)
	}
	l.unseen = idf(1)
	l.avgLen = max(float64(total)/n, 1)
	return l
}

// doc counts words; words the lexicon does not know are left out.
func (l *lexicon) doc(words []string) bm25Doc {
	d := bm25Doc{tf: make(map[int32]float64, len(words)), len: float64(len(words))}
	for _, w := range words {
		if id, ok := l.ids[w]; ok {
			d.tf[id]++
		}
	}
	return d
}

// without is d less the words of e (a part of d).
func (d bm25Doc) without(e bm25Doc) bm25Doc {
	out := bm25Doc{tf: make(map[int32]float64, len(d.tf)), len: d.len - e.len}
	for id, f := range d.tf {
		if f -= e.tf[id]; f > 0 {
			out.tf[id] = f
		}
	}
	return out
}

// bm25Query is a prompt's words: their ids (-1 for unknown words) and the most they could
// score together.
type bm25Query struct {
	ids []int32
	max float64
}

func (l *lexicon) query(words []string) bm25Query {
	q := bm25Query{ids: make([]int32, len(words))}
	for i, w := range words {
		id, ok := l.ids[w]
		if !ok {
			id = -1
		}
		q.ids[i] = id
		q.max += l.weight(id) * (bm25K1 + 1)
	}
	return q
}

func (l *lexicon) weight(id int32) float64 {
	if id < 0 {
		return l.unseen
	}
	return l.idf[id]
}

// score is BM25 of q against d divided by q.max: in [0, 1).
func (l *lexicon) score(q bm25Query, d bm25Doc) float64 {
	if q.max == 0 {
		return 0
	}
	norm := bm25K1 * (1 - bm25B + bm25B*d.len/l.avgLen)
	var s float64
	for _, id := range q.ids {
		if id < 0 {
			continue
		}
		if f := d.tf[id]; f > 0 {
			s += l.idf[id] * f * (bm25K1 + 1) / (f + norm)
		}
	}
	return s / q.max
}
