package offline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/aiproxy/aiproxy/internal/cputime"
)

func TestDimensionsAndUnitNorm(t *testing.T) {
	e := New()
	texts := []string{"", "   ", "the of and", "?!", "hello world", "What is the derivative of sin(x)?",
		"Gödel", strings.Repeat("goroutine ", 500), "数学と物理", "\xff\xfe bad utf8"}
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if len(v) != e.Dimensions() {
			t.Fatalf("text %d: %d dims, want %d", i, len(v), e.Dimensions())
		}
		checkUnit(t, texts[i], v)
	}
	// A text without content words is similar to nothing with content.
	if s := cosine(vs[0], vs[5]); s != 0 {
		t.Errorf("empty text has similarity %v to a real prompt", s)
	}
}

func checkUnit(t testing.TB, text string, v []float32) {
	t.Helper()
	var n float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("%q: non-finite value %v", text, x)
		}
		n += float64(x) * float64(x)
	}
	if math.Abs(n-1) > 1e-4 {
		t.Fatalf("%q: squared norm %v, want 1", text, n)
	}
}

func TestDeterministic(t *testing.T) {
	e := New()
	texts := []string{"How can I build a REST API using Flask?", "What's the capital of Argentina?", "goroutine GraphQL kubernetes"}
	want, _ := e.Embed(context.Background(), texts)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				got, _ := New().Embed(context.Background(), texts)
				for i := range got {
					for j := range got[i] {
						if got[i][j] != want[i][j] {
							t.Errorf("text %d dim %d: %v != %v", i, j, got[i][j], want[i][j])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	one := make([]float32, e.Dimensions())
	e.EmbedInto(one, texts[0])
	for j := range one {
		if one[j] != want[0][j] {
			t.Fatalf("EmbedInto differs from Embed at %d", j)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Embed(ctx, []string{"x"}); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}

func TestTokenize(t *testing.T) {
	for in, want := range map[string]string{
		"Explain me Gödel`s incompleteness theorem.": "explain me godel s incompleteness theorem",
		"What does the `map()` function do?":         "what does the map function do",
		"sin(x)/x, x→0":                              "sin x x x 0",
		"naïve CAFÉ Straße":                          "naive cafe strasse",
		"go\u0308del":                                "godel",
		"":                                           "",
	} {
		if got := strings.Join(Tokenize(in), " "); got != want {
			t.Errorf("Tokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

// Unknown words still carry meaning through their character n-grams.
func TestUnknownWordsCount(t *testing.T) {
	e := New()
	vs, _ := e.Embed(context.Background(), []string{"goroutines", "xqzvw"})
	for i, v := range vs {
		if v[len(v)-1] != 0 {
			t.Errorf("text %d embedded as empty", i)
		}
	}
}

func FuzzEmbed(f *testing.F) {
	for _, s := range []string{"", "How can I build a REST API using Flask?", "Gödel`s", "\x00\xff", "ǅ ﬁ İ", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	e := New()
	v := make([]float32, e.Dimensions())
	f.Fuzz(func(t *testing.T, s string) {
		e.EmbedInto(v, s)
		checkUnit(t, s, v)
		for _, tok := range Tokenize(s) {
			if tok == "" || len(tok) > 40 {
				t.Fatalf("bad token %q", tok)
			}
		}
	})
}

// prompt200 is a 200-word prompt.
var prompt200 = func() string {
	words := strings.Fields(`I am building a small web service in Python with Flask and I want to expose a REST API
	for managing users and their orders. The service talks to a PostgreSQL database through SQLAlchemy and
	runs behind nginx in a Docker container. Recently some requests started failing with a timeout after
	about thirty seconds, but only under load, and the logs show nothing obvious. I suspect the connection
	pool is exhausted or that a transaction is left open somewhere. How can I debug this effectively, which
	metrics should I collect, and how do I make the endpoints resilient so that one slow query does not
	block every worker? Please also explain how asynchronous workers compare with threads for this kind of
	workload and whether moving to FastAPI would help.`)
	for len(words) < 200 {
		words = append(words, words...)
	}
	return strings.Join(words[:200], " ")
}()

// BenchmarkEmbed200Words: cpu-ns/op is the process's CPU time per embedding, which a loaded
// machine inflates less than ns/op.
func BenchmarkEmbed200Words(b *testing.B) {
	e := New()
	v := make([]float32, e.Dimensions())
	b.ReportAllocs()
	b.SetBytes(int64(len(prompt200)))
	start := cputime.Process()
	for b.Loop() {
		e.EmbedInto(v, prompt200)
	}
	if cpu := cputime.Process() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkEmbedBatch(b *testing.B) {
	e := New()
	texts := []string{prompt200, "What is the derivative of sin(x)?", "Tell me a fun fact about dolphins"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseModel()
		if err != nil || m == nil {
			b.Fatal(err)
		}
	}
}

// goldenSum pins the exact output (model.bin and the arithmetic): a change of either, or a
// platform that computes differently, shows here. Update it only together with model.bin.
const goldenSum = "bf98b0d398980fd7da60d9ab265689422fcee54ef35dea07a826471716d72218"

func TestGolden(t *testing.T) {
	e := New()
	h := sha256.New()
	v := make([]float32, e.Dimensions())
	for _, text := range []string{"How can I build a REST API using Flask?", "Explain me Gödel`s incompleteness theorem.",
		"What is Wulfila Bible?", "goroutines GraphQL kubernetes", prompt200} {
		e.EmbedInto(v, text)
		for _, x := range v {
			_ = binary.Write(h, binary.LittleEndian, math.Float32bits(x))
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != goldenSum {
		t.Errorf("embeddings changed: sum %s, want %s", got, goldenSum)
	}
}
