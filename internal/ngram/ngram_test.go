package ngram

import "testing"

func TestCount(t *testing.T) {
	for n := 0; n < 45; n++ {
		word := make([]byte, n)
		for i := range word {
			word[i] = 'a' + byte(i%26)
		}
		got := 0
		Each(word, 1000, func(uint32) { got++ })
		if got != Count(n) {
			t.Errorf("len %d: Each yields %d, Count says %d", n, got, Count(n))
		}
	}
}
