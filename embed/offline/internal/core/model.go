package core

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/aiproxy/aiproxy/internal/ngram"
)

// magic starts every model file; the digit is the format version.
const magic = "AIPXOE01"

// Model is a quantised word-vector model. Word rows are stored already weighted (SIF weight
// times the mean-centred vector), so embedding a text is a sum of rows, the removal of a few
// common directions, and a normalisation.
type Model struct {
	Dim       int       // dimensions of the word space; Embed writes Dim+1 values
	Words     []string  // vocabulary, index = row
	Scales    []float32 // per-row dequantisation scale; 0 means a stop word
	Rows      []int8    // len(Words)*Dim
	BScales   []float32 // per-bucket scale for character n-grams of unknown words
	BRows     []int8    // len(BScales)*Dim
	PCs       []float32 // NPCs*Dim unit vectors removed from every text vector
	OOVWeight float32   // weight of an unknown word's n-gram average

	index map[string]int32
}

// Index builds the lookup table; call it once before Embed.
func (m *Model) Index() {
	m.index = make(map[string]int32, len(m.Words))
	for i, w := range m.Words {
		m.index[w] = int32(i)
	}
}

// Encode serialises m (little-endian).
func (m *Model) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	put(uint32(m.Dim))
	put(uint32(len(m.Words)))
	put(uint32(len(m.BScales)))
	put(uint32(len(m.PCs) / max(m.Dim, 1)))
	put(m.OOVWeight)
	for _, w := range m.Words {
		b.WriteByte(byte(len(w)))
		b.WriteString(w)
	}
	put(m.Scales)
	put(m.Rows)
	put(m.BScales)
	put(m.BRows)
	put(m.PCs)
	return b.Bytes()
}

// Parse decodes a model written by Encode. Rows alias data.
func Parse(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errors.New("offline: not a model file")
	}
	p := data[len(magic):]
	bad := errors.New("offline: truncated model file")
	u32 := func() uint32 {
		if len(p) < 4 {
			p = nil
			return 0
		}
		v := binary.LittleEndian.Uint32(p)
		p = p[4:]
		return v
	}
	dim, nw, nb, npc := int(u32()), int(u32()), int(u32()), int(u32())
	oov := math.Float32frombits(u32())
	if p == nil || dim <= 0 || dim > 4096 {
		return nil, bad
	}
	m := &Model{Dim: dim, OOVWeight: oov, Words: make([]string, nw)}
	for i := range m.Words {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return nil, bad
		}
		l := int(p[0])
		m.Words[i] = string(p[1 : 1+l])
		p = p[1+l:]
	}
	f32s := func(n int) []float32 {
		if p == nil || len(p) < 4*n {
			p = nil
			return nil
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
		p = p[4*n:]
		return out
	}
	i8s := func(n int) []int8 {
		if p == nil || len(p) < n {
			p = nil
			return nil
		}
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(p[i])
		}
		p = p[n:]
		return out
	}
	m.Scales = f32s(nw)
	m.Rows = i8s(nw * dim)
	m.BScales = f32s(nb)
	m.BRows = i8s(nb * dim)
	m.PCs = f32s(npc * dim)
	if p == nil {
		return nil, bad
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("offline: %d trailing bytes in model file", len(p))
	}
	m.Index()
	return m, nil
}

// Quantise stores v as an int8 row with one scale.
func Quantise(v []float32, row []int8) (scale float32) {
	var mx float32
	for _, x := range v {
		mx = max(mx, float32(math.Abs(float64(x))))
	}
	if mx == 0 {
		clear(row)
		return 0
	}
	scale = mx / 127
	for i, x := range v {
		row[i] = int8(math.Round(float64(x / scale)))
	}
	return scale
}

// lookup finds tok in the vocabulary, else a regular inflection of it ("theorems" →
// "theorem", "debugging" → "debug"). buf is scratch space.
func (m *Model) lookup(tok []byte, buf []byte) (int32, bool) {
	if id, ok := m.index[string(tok)]; ok {
		return id, true
	}
	n := len(tok)
	try := func(stem int, add string) (int32, bool) {
		if stem < 3 {
			return 0, false
		}
		b := append(append(buf[:0], tok[:stem]...), add...)
		id, ok := m.index[string(b)]
		return id, ok
	}
	type rule struct {
		suffix, add string
	}
	for _, r := range [...]rule{
		{"ies", "y"}, {"es", ""}, {"s", ""}, {"ing", ""}, {"ing", "e"}, {"ed", ""}, {"ed", "e"},
		{"ly", ""}, {"er", ""}, {"est", ""},
	} {
		if n > len(r.suffix) && string(tok[n-len(r.suffix):]) == r.suffix {
			if id, ok := try(n-len(r.suffix), r.add); ok {
				return id, true
			}
			// doubled consonant: "debugging" → "debug"
			if r.add == "" && (r.suffix == "ing" || r.suffix == "ed") && n-len(r.suffix) >= 2 &&
				tok[n-len(r.suffix)-1] == tok[n-len(r.suffix)-2] {
				if id, ok := try(n-len(r.suffix)-1, ""); ok {
					return id, true
				}
			}
		}
	}
	return 0, false
}

// Embed writes the unit-length embedding of text into out (len Dim+1). A text with no
// content word gets the last axis, which no other text uses, so it is similar to nothing.
func (m *Model) Embed(text string, out []float32) {
	d := m.Dim
	acc := out[:d]
	clear(out)
	var scratch [64]byte
	toks := Tokens{Text: text}
	for tok, ok := toks.Next(); ok; tok, ok = toks.Next() {
		if id, ok := m.lookup(tok, scratch[:0]); ok {
			s := m.Scales[id]
			if s == 0 {
				continue
			}
			row := m.Rows[int(id)*d : int(id)*d+d]
			for i, q := range row {
				acc[i] += float32(s * float32(q)) // the conversion forbids fused multiply-add: same bits on every CPU
			}
			continue
		}
		m.addUnknown(tok, acc)
	}
	for k := 0; k+d <= len(m.PCs); k += d {
		pc := m.PCs[k : k+d]
		var dot float32
		for i, x := range acc {
			dot += float32(x * pc[i])
		}
		for i := range acc {
			acc[i] -= float32(dot * pc[i])
		}
	}
	var norm float64
	for _, x := range acc {
		norm += float64(float64(x) * float64(x))
	}
	if norm < 1e-12 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		clear(acc)
		out[d] = 1
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range acc {
		acc[i] *= inv
	}
}

// addUnknown adds an unknown word: the mean of its character n-gram buckets, times OOVWeight.
// Numbers and very short tokens carry no meaning this model can see.
func (m *Model) addUnknown(tok []byte, acc []float32) {
	nb := uint32(len(m.BScales))
	if nb == 0 || len(tok) < 3 || m.OOVWeight == 0 {
		return
	}
	letters := 0
	for _, c := range tok {
		if c < '0' || c > '9' {
			letters++
		}
	}
	if letters < 3 {
		return
	}
	d := m.Dim
	w := m.OOVWeight / float32(ngram.Count(len(tok)))
	ngram.Each(tok, nb, func(b uint32) {
		s := w * m.BScales[b]
		if s == 0 {
			return
		}
		row := m.BRows[int(b)*d : int(b)*d+d]
		for i, q := range row {
			acc[i] += float32(s * float32(q))
		}
	})
}
