package semroute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aiproxy/aiproxy/internal/cputime"
)

// unit returns a unit vector along the given axes with the given weights.
func unit(dims int, axisWeight ...float64) []float32 {
	v := make([]float32, dims)
	var n float64
	for i := 0; i < len(axisWeight); i += 2 {
		v[int(axisWeight[i])] += float32(axisWeight[i+1])
		n += axisWeight[i+1] * axisWeight[i+1]
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func TestTokenize(t *testing.T) {
	got := Tokenize("What's the ATM's fee? Ordering 2 pizzas, bus-pass; transferring, transferred, transfers, charge, charged, string, speed")
	want := []string{"what", "s", "the", "atm", "s", "fee", "order", "2", "pizza", "bus", "pass",
		"transfer", "transfer", "transfer", "charg", "charg", "string", "speed"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokenize = %q, want %q", got, want)
	}
}

func TestNewRejects(t *testing.T) {
	for name, ts := range map[string][]Target{
		"no targets":       nil,
		"no texts":         {{}},
		"texts != vectors": {{Texts: []string{"a", "b"}, Vectors: [][]float32{{1}}}},
		"dims differ":      {{Texts: []string{"a", "b"}, Vectors: [][]float32{{1, 0}, {1}}}},
		"examples > texts": {{Texts: []string{"a", "b"}, Vectors: [][]float32{{1}, {1}}, Examples: 2}},
	} {
		if _, err := New(ts, Options{}); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestRoute(t *testing.T) {
	// Two targets on axes 0 and 1; prompts on axis 2 are about neither.
	weather := Target{
		Texts:    []string{"weather forecast", "will it rain tomorrow", "weather in Paris", "is it sunny", "snow forecast", "weather this weekend", "rain in London"},
		Vectors:  [][]float32{unit(3, 0, 1), unit(3, 0, 1, 1, .1), unit(3, 0, 1, 2, .2), unit(3, 0, 1, 1, .2), unit(3, 0, 1), unit(3, 0, 1, 2, .1), unit(3, 0, 1, 1, .3)},
		Examples: 6,
	}
	music := Target{
		Texts:    []string{"music songs", "play a song", "play jazz music", "next song", "turn the music up", "play songs by Queen", "shuffle my songs"},
		Vectors:  [][]float32{unit(3, 1, 1), unit(3, 1, 1, 0, .1), unit(3, 1, 1, 2, .2), unit(3, 1, 1, 0, .2), unit(3, 1, 1), unit(3, 1, 1, 2, .1), unit(3, 1, 1, 0, .3)},
		Examples: 6,
	}
	r, err := New([]Target{weather, music}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if th := r.Threshold(); th <= 0 || th >= 1 {
		t.Fatalf("Threshold() = %v, want within (0, 1)", th)
	}
	var d Decision
	for _, c := range []struct {
		text     string
		vec      []float32
		best     int
		accepted bool
	}{
		{"will it snow in Paris tomorrow", unit(3, 0, 1, 1, .1), 0, true},
		{"play a jazz song", unit(3, 1, 1, 2, .1), 1, true},
		{"who wrote Hamlet", unit(3, 2, 1), -2, false}, // -2: either target, not accepted
		// Vectors that cannot tell (halfway) are settled by the words, but as both targets
		// claim the prompt, the margin keeps it below the threshold.
		{"play some music", unit(3, 0, 1, 1, 1), 1, false},
	} {
		r.Route(c.vec, c.text, &d)
		if (c.best >= 0 && d.Best != c.best) || d.Accepted != c.accepted {
			t.Errorf("%q: best %d accepted %v (%+v), want %d %v", c.text, d.Best, d.Accepted, d.Targets, c.best, c.accepted)
		}
		if len(d.Targets) != 2 {
			t.Fatalf("%q: %d signals, want 2", c.text, len(d.Targets))
		}
		if p := d.Targets[0].Classifier + d.Targets[1].Classifier; math.Abs(p-1) > 1e-9 {
			t.Errorf("%q: classifier probabilities sum to %v, want 1", c.text, p)
		}
		for i, s := range d.Targets {
			if s.Lexical < 0 || s.Lexical >= 1 || s.Classifier <= 0 || s.Classifier >= 1 ||
				math.Abs(s.Score-(0.75*(s.Vector+s.Lexical)/2+0.25*s.Classifier)) > 1e-12 {
				t.Errorf("%q target %d: signals %+v, want lexical in [0, 1), a probability and score 0.75 × their mean + 0.25 × the probability", c.text, i, s)
			}
			if other := d.Targets[1-i].Score; math.Abs(s.Net-(s.Score-other/2)) > 1e-12 {
				t.Errorf("%q target %d: net %v, want its score less half the other's (%v)", c.text, i, s.Net, other)
			}
		}
	}
}

func TestFallbackWithoutExamples(t *testing.T) {
	ts := []Target{
		{Texts: []string{"weather"}, Vectors: [][]float32{unit(2, 0, 1)}},
		{Texts: []string{"music"}, Vectors: [][]float32{unit(2, 1, 1)}},
	}
	r, err := New(ts, Options{Fallback: 0.6, Lexical: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Threshold() != 0.6 {
		t.Errorf("Threshold() = %v, want the fallback 0.6", r.Threshold())
	}
	var d Decision
	r.Route(unit(2, 0, 1, 1, .5), "rain", &d) // cosine 0.89 with weather, 0.45 with music: net 0.67
	if d.Best != 0 || !d.Accepted || d.Targets[0].Lexical != 0 {
		t.Errorf("decision %+v, want weather accepted with no lexical signal", d)
	}
	r.Route(unit(2, 0, 1, 1, 1), "rain", &d) // cosine 0.71 with both
	if d.Accepted != (d.Targets[d.Best].Net >= 0.6) {
		t.Errorf("decision %+v does not follow the threshold", d)
	}
}

// benchTargets are 10 targets of 50 texts each, 500 in all, with 65-value vectors as the
// offline embedder gives, and a prompt of 20 words.
func benchTargets() ([]Target, []float32, string) { return benchTargetsN(10, 50) }

// benchTargetsN is nt targets of per texts each, the description and per−1 examples, in
// random directions, their words drawn from a vocabulary that grows with the number of texts.
func benchTargetsN(nt, per int) ([]Target, []float32, string) {
	rnd := rand.New(rand.NewPCG(1, 2))
	randUnit := func() []float32 {
		v := make([]float32, 65)
		var n float64
		for i := range v {
			v[i] = float32(rnd.NormFloat64())
			n += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(n))
		}
		return v
	}
	words := []string{"weather", "rain", "song", "play", "alarm", "wake", "me", "up", "at", "the", "order", "pizza",
		"train", "ticket", "email", "send", "news", "today", "lights", "off", "recipe", "for", "meeting", "calendar"}
	for k := 0; len(words) < nt*per/5; k++ { // invented words, one per five texts beyond the 24
		words = append(words, fmt.Sprintf("%s%d", words[k%24], k))
	}
	var ts []Target
	for i := range nt {
		tg := Target{Examples: per - 1}
		for j := range per {
			tg.Texts = append(tg.Texts, fmt.Sprintf("%s %s %s %s please", words[(i+j)%len(words)], words[(2*i+j)%len(words)], words[(3*i+j)%len(words)], words[(i*per+j)%len(words)]))
			tg.Vectors = append(tg.Vectors, randUnit())
		}
		ts = append(ts, tg)
	}
	return ts, randUnit(), "could you please wake me up at seven tomorrow morning and then play the news and the weather for today"
}

// BenchmarkRoute is one decision among 10 targets of 50 texts (500 vectors). cpu-ns/op is
// the process's CPU time per decision, which a loaded machine inflates less than ns/op.
//
//	go test -run '^$' -bench . -benchmem ./internal/semroute
func BenchmarkRoute(b *testing.B) {
	ts, vec, text := benchTargets()
	r, err := New(ts, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var d Decision
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		r.Route(vec, text, &d)
	}
	if cpu := cputime.Process() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkNew is fitting a Router (done at start and on every reload) to 10 targets of 50
// texts and to 50 targets of 100 texts.
func BenchmarkNew(b *testing.B) {
	for _, size := range [][2]int{{10, 50}, {50, 100}} {
		b.Run(fmt.Sprintf("texts=%d", size[0]*size[1]), func(b *testing.B) {
			ts, _, _ := benchTargetsN(size[0], size[1])
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				if _, err := New(ts, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := cputime.Process() - start; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// TestRouteComparesDirections: vectors of any length score as their directions do, and a
// reused Decision allocates nothing.
func TestRouteComparesDirections(t *testing.T) {
	scaled := func(v []float32, f float32) []float32 {
		out := slices.Clone(v)
		for i := range out {
			out[i] *= f
		}
		return out
	}
	a, b := unit(2, 0, 1), unit(2, 1, 1)
	ts := []Target{{Texts: []string{"alpha"}, Vectors: [][]float32{scaled(a, 3)}}, {Texts: []string{"beta"}, Vectors: [][]float32{scaled(b, 0.5)}}}
	r, err := New(ts, Options{Lexical: -1})
	if err != nil {
		t.Fatal(err)
	}
	var d Decision
	r.Route(scaled(unit(2, 0, 1, 1, .5), 7), "Ärger", &d)
	if d.Best != 0 || math.Abs(d.Targets[0].Vector-2/math.Sqrt(5)) > 1e-6 {
		t.Errorf("decision %+v, want target 0 at cosine %.4f", d, 2/math.Sqrt(5))
	}
	if n := testing.AllocsPerRun(100, func() { r.Route(a, "Ärger über die Bank's fees", &d) }); n != 0 {
		t.Errorf("Route allocates %v times", n)
	}
}

func TestTokenizeUnicode(t *testing.T) {
	if got, want := Tokenize("Ärger—ÜBER Größes"), []string{"ärger", "über", "größe"}; !slices.Equal(got, want) {
		t.Errorf("Tokenize = %q, want %q", got, want)
	}
}

func TestRoutePanicsOnAnotherLength(t *testing.T) {
	r, err := New([]Target{{Texts: []string{"a"}, Vectors: [][]float32{{1, 0}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Route took a vector of 3 values for targets of 2")
		}
	}()
	r.Route([]float32{1, 0, 0}, "a", new(Decision))
}

// Texts after the examples (a description's phrases) score but do not calibrate, and a
// target without examples scores by its nearest text.
func TestPhrases(t *testing.T) {
	var ts []Target
	for axis := range 2 {
		tg := Target{Texts: []string{"description"}, Vectors: [][]float32{unit(3, float64(axis), 1)}}
		for i := range 6 {
			tg.Texts = append(tg.Texts, fmt.Sprint("phrase ", i))
			tg.Vectors = append(tg.Vectors, unit(3, float64(axis), 1, 2, float64(i)/10))
		}
		ts = append(ts, tg)
	}
	r, err := New(ts, Options{Lexical: -1, Fallback: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Threshold() != 0.3 {
		t.Errorf("threshold %v, want the fallback: 12 phrases are no examples", r.Threshold())
	}
	var d Decision
	r.Route(unit(3, 0, 1, 2, .5), "", &d)
	if want := float64(dot(unit(3, 0, 1, 2, .5), unit(3, 0, 1, 2, .5))); d.Best != 0 || math.Abs(d.Targets[0].Vector-want) > 1e-6 {
		t.Errorf("decision %+v, want target 0 with the nearest text's similarity %v", d, want)
	}
}

// The classifier is fitted deterministically (the same Router twice), turns off with a
// negative weight, and ranks a prompt that only its words settle.
func TestClassifier(t *testing.T) {
	ts, vec, text := benchTargets()
	a, err := New(ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var da, db Decision
	a.Route(vec, text, &da)
	b.Route(vec, text, &db)
	if a.Threshold() != b.Threshold() || !slices.Equal(da.Targets, db.Targets) {
		t.Errorf("two fits differ: thresholds %v %v, signals %+v %+v", a.Threshold(), b.Threshold(), da.Targets, db.Targets)
	}
	off, err := New(ts, Options{Classifier: -1})
	if err != nil {
		t.Fatal(err)
	}
	off.Route(vec, text, &da)
	for i, s := range da.Targets {
		if s.Classifier != 0 || math.Abs(s.Score-(s.Vector+s.Lexical)/2) > 1e-12 {
			t.Errorf("classifier off, target %d: %+v", i, s)
		}
	}
	// Two targets with the same vectors: only the words (and so the classifier) tell.
	same := unit(2, 1, 1)
	two := []Target{
		{Texts: []string{"weather", "rain tomorrow", "snow forecast"}, Vectors: [][]float32{same, same, same}, Examples: 2},
		{Texts: []string{"music", "play a song", "some jazz"}, Vectors: [][]float32{same, same, same}, Examples: 2},
	}
	r, err := New(two, Options{Lexical: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.Route(same, "will it rain or snow", &da)
	if da.Best != 0 || da.Targets[0].Classifier <= 0.5 {
		t.Errorf("rain prompt: %+v, want the weather target by its words", da)
	}
}

// TestCalibrationBounded: up to maxCalibration examples all calibrate, in Folds folds dealt in
// turn; beyond, maxCalibration of them, in fewer folds of at most a Folds-th of the examples.
func TestCalibrationBounded(t *testing.T) {
	for _, c := range []struct{ nt, per, picked, folds int }{{10, 50, 490, 4}, {50, 100, 1000, 1}, {30, 101, 1000, 2}} {
		ts, _, _ := benchTargetsN(c.nt, c.per)
		r, err := New(ts, Options{Classifier: -1})
		if err != nil {
			t.Fatal(err)
		}
		calib, nfolds := r.calibration(4)
		picked, per := 0, make([]int, nfolds)
		for _, f := range calib {
			if f >= 0 {
				picked++
				per[f]++
			}
		}
		if picked != c.picked || nfolds != c.folds {
			t.Errorf("%d×%d texts: %d examples picked in %d folds, want %d in %d", c.nt, c.per, picked, nfolds, c.picked, c.folds)
		}
		for f, n := range per {
			if n > c.nt*(c.per-1)/4+1 {
				t.Errorf("%d×%d texts: fold %d leaves out %d examples, more than a quarter", c.nt, c.per, f, n)
			}
		}
	}
}
