package core

import "testing"

func TestNgramCount(t *testing.T) {
	for n := 0; n < 45; n++ {
		word := make([]byte, n)
		for i := range word {
			word[i] = 'a' + byte(i%26)
		}
		got := 0
		Ngrams(word, 1000, func(uint32) { got++ })
		if got != NgramCount(n) {
			t.Errorf("len %d: Ngrams yields %d, NgramCount says %d", n, got, NgramCount(n))
		}
	}
}
