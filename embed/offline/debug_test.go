package offline

import (
	"context"
	"os"
	"strings"
	"testing"
)

// OFFLINE_DEBUG="words|text|text" prints each word's similarity to each kong description.
func TestDebugWords(t *testing.T) {
	q := os.Getenv("OFFLINE_DEBUG")
	if q == "" {
		t.Skip()
	}
	e := New()
	for _, text := range strings.Split(q, "|") {
		for _, w := range append(Tokenize(text), text) {
			vs, _ := e.Embed(context.Background(), append([]string{w}, kongSet.descs...))
			t.Logf("%-30s prog %.3f math %.3f", w, cosine(vs[0], vs[1]), cosine(vs[0], vs[2]))
		}
	}
}
