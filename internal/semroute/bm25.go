package semroute

import (
	"math"
	"slices"
	"unicode"
	"unicode/utf8"
)

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
	// post lists, by word id, the targets whose texts use the word and its BM25 term
	// score there, so that a prompt is scored against every target in one pass.
	post [][]posting
}

type posting struct {
	target int32
	score  float64
}

// bm25Doc is a document: its words' frequencies and its length.
type bm25Doc struct {
	tf  map[int32]float64
	len float64
}

// newLexicon indexes docs (one per target), given as the word ids of id's numbering.
func newLexicon(ids map[string]int32, docs [][]int32) (lexicon, []bm25Doc) {
	l := lexicon{ids: ids, idf: make([]float64, len(ids)), post: make([][]posting, len(ids))}
	df := make([]int, len(ids))
	out := make([]bm25Doc, len(docs))
	var total int
	for i, d := range docs {
		total += len(d)
		out[i] = bm25Doc{tf: make(map[int32]float64, len(d)), len: float64(len(d))}
		for _, id := range d {
			if out[i].tf[id] == 0 {
				df[id]++
			}
			out[i].tf[id]++
		}
	}
	n := float64(len(docs))
	idf := func(df int) float64 { return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5)) }
	for id, f := range df {
		l.idf[id] = idf(f)
	}
	l.unseen = idf(1)
	l.avgLen = max(float64(total)/n, 1)
	for t, d := range out {
		for _, id := range d.words() {
			l.post[id] = append(l.post[id], posting{target: int32(t), score: l.term(id, d)})
		}
	}
	return l, out
}

// words are d's distinct word ids in increasing order, so that postings are built in a
// fixed order.
func (d bm25Doc) words() []int32 {
	ids := make([]int32, 0, len(d.tf))
	for id := range d.tf {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// term is word id's BM25 term score in d (0 when d lacks it).
func (l *lexicon) term(id int32, d bm25Doc) float64 {
	f := d.tf[id]
	if f == 0 {
		return 0
	}
	norm := bm25K1 * (1 - bm25B + bm25B*d.len/l.avgLen)
	return l.idf[id] * f * (bm25K1 + 1) / (f + norm)
}

// weight is the idf of word id, -1 for a word no target uses.
func (l *lexicon) weight(id int32) float64 {
	if id < 0 {
		return l.unseen
	}
	return l.idf[id]
}

// scoreDoc is BM25 of the words ids against d, divided by the most those words could
// score: in [0, 1). It is the slow path, for calibration; Route uses the postings.
func (l *lexicon) scoreDoc(ids []int32, d bm25Doc) float64 {
	var s, most float64
	for _, id := range ids {
		most += l.weight(id) * (bm25K1 + 1)
		if id >= 0 {
			s += l.term(id, d)
		}
	}
	if most == 0 {
		return 0
	}
	return s / most
}

// without is d less the words ids (a part of d).
func (d bm25Doc) without(ids []int32) bm25Doc {
	out := bm25Doc{tf: make(map[int32]float64, len(d.tf)), len: d.len - float64(len(ids))}
	for id, f := range d.tf {
		out.tf[id] = f
	}
	for _, id := range ids {
		if id >= 0 {
			if out.tf[id]--; out.tf[id] <= 0 {
				delete(out.tf, id)
			}
		}
	}
	return out
}

// eachWord calls fn with every word of text as Tokenize defines them, in a buffer that buf
// provides and that fn must not keep; it returns the buffer for reuse. It allocates only
// when a word is longer than buf's capacity.
func eachWord(text string, buf []byte, fn func(word []byte)) []byte {
	emit := func() {
		w := buf
		if n := len(w); n > 3 && w[n-1] == 's' && w[n-2] != 's' {
			w = w[:n-1] // a plural "s"
		}
		w = stemWord(w)
		if len(w) > 0 {
			fn(w)
		}
		buf = buf[:0]
	}
	buf = buf[:0]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
			default:
				emit()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		} else {
			emit()
		}
	}
	emit()
	return buf
}

// stemWord strips "ing" and "ed" (and the doubled consonant before them) and a final "e" from
// longer ASCII words (words of 7, 6 and 5 letters or more), so that "transferring", "transferred" and "transfer", or "charge" and
// "charged", are one word.
func stemWord(w []byte) []byte {
	for _, c := range w {
		if c >= utf8.RuneSelf { // English suffixes only
			return w
		}
	}
	n := len(w)
	switch {
	case n > 6 && string(w[n-3:]) == "ing":
		w = w[:n-3]
	case n > 5 && string(w[n-2:]) == "ed":
		w = w[:n-2]
	case n > 4 && w[n-1] == 'e':
		return w[:n-1]
	default:
		return w
	}
	if n := len(w); n > 3 && w[n-1] == w[n-2] && w[n-1] != 'l' && w[n-1] != 's' {
		w = w[:n-1]
	}
	if n := len(w); n > 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}
