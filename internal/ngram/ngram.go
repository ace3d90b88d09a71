// Package ngram hashes the character n-grams of words into buckets, as fastText does: the
// offline embedder's vectors of unknown words and the semantic router's classifier features
// share it.
package ngram

// The n-grams of a word are those of "<word>" with MinN ≤ n ≤ MaxN bytes (the whole "<word>"
// left out: it is the word itself), hashed with 32-bit FNV-1a.
const (
	MinN = 3
	MaxN = 5
)

// Each calls fn with the bucket (in [0, buckets)) of each character n-gram of word.
func Each(word []byte, buckets uint32, fn func(bucket uint32)) {
	n := len(word) + 2
	at := func(i int) byte {
		switch {
		case i == 0:
			return '<'
		case i == n-1:
			return '>'
		}
		return word[i-1]
	}
	for i := 0; i < n; i++ {
		for l := MinN; l <= MaxN && i+l <= n; l++ {
			if l == n { // the whole "<word>" is the word itself, not an n-gram
				continue
			}
			h := uint32(2166136261)
			for j := i; j < i+l; j++ {
				h ^= uint32(at(j))
				h *= 16777619
			}
			fn(h % buckets)
		}
	}
}

// Count is the number of n-grams Each yields for a word of n bytes.
func Count(n int) int {
	n += 2
	c := 0
	for l := MinN; l <= MaxN; l++ {
		if l < n {
			c += n - l + 1
		}
	}
	return c
}
