package offline

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
)

// The routing rule of Kong's semantic balancer: the nearest description by cosine distance
// wins if its distance is within threshold, else CATCHALL ("" when there is none).
type routeSet struct {
	names     []string
	descs     []string
	threshold float64
	catchall  bool
}

var (
	kongSet = routeSet{ // seeds 000, 001, 003
		names: []string{"programming", "mathematics"},
		descs: []string{
			"programming, coding, software development, Python, JavaScript, APIs, debugging",
			"mathematics, algebra, calculus, trigonometry, equations, integrals, derivatives, theorems",
		},
		threshold: 0.8, catchall: true,
	}
	seed002Set = routeSet{ // seed 002
		names:     []string{"real life", "programming"},
		descs:     []string{"Specialist in real life topics", "Specialist in programming problems"},
		threshold: 0.7,
	}
	domainSet = routeSet{ // a set of our own, for generalisation
		names: []string{"cooking", "law", "medicine", "sports"},
		descs: []string{
			"cooking, recipes, baking, ingredients, cuisine, kitchen, food preparation",
			"law, legal advice, contracts, courts, lawsuits, rights, legislation",
			"medicine, health, diseases, symptoms, treatment, doctors, drugs",
			"sports, football, basketball, tennis, athletes, training, matches, Olympics",
		},
		threshold: 0.8, catchall: true,
	}
	sets = map[string]routeSet{"kong": kongSet, "seed002": seed002Set, "domains": domainSet}
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / (sqrt(na) * sqrt(nb))
}

func sqrt(x float64) float64 {
	if x <= 0 {
		return 1
	}
	z := x
	for i := 0; i < 60; i++ {
		z = (z + x/z) / 2
	}
	return z
}

// route returns the chosen target and the similarity to each description.
func (s routeSet) route(t testing.TB, e *Embedder, prompt string) (string, []float64) {
	t.Helper()
	vs, err := e.Embed(context.Background(), append([]string{prompt}, s.descs...))
	if err != nil {
		t.Fatal(err)
	}
	best, bestDist := "", 2.0
	sims := make([]float64, len(s.descs))
	for i := range s.descs {
		sims[i] = cosine(vs[0], vs[i+1])
		if d := 1 - sims[i]; d < bestDist {
			best, bestDist = s.names[i], d
		}
	}
	if bestDist > s.threshold {
		if s.catchall {
			return "CATCHALL", sims
		}
		return "", sims
	}
	return best, sims
}

func TestSeedPrompts(t *testing.T) {
	e := New()
	for _, c := range []struct{ prompt, want string }{
		{"How can I build a REST API using Flask?", "programming"},
		{"How can you effectively debug asynchronous code in JavaScript to identify where a Promise or callback might be failing?", "programming"},
		{"How do I build a REST API using Flask?", "programming"},
		{"What does the `map()` function do in Python?", "programming"},
		{"What is the derivative of sin(x)?", "mathematics"},
		{"Explain me Gödel`s incompleteness theorem.", "mathematics"},
		{"What's the derivative of sin(x)?", "mathematics"},
		{"What's the Fermat's last theorem?", "mathematics"},
		{"What is Wulfila Bible?", "CATCHALL"},
		{"Who was Edward Gibbon and what he is famous for?", "CATCHALL"},
		{"What's the capital of Argentina?", "CATCHALL"},
		{"Tell me a fun fact about dolphins", "CATCHALL"},
	} {
		got, sims := kongSet.route(t, e, c.prompt)
		t.Logf("%-12s sims %.3f  %s", got, sims, c.prompt)
		if got != c.want {
			t.Errorf("%q routed to %s, want %s (similarities %.3f)", c.prompt, got, c.want, sims)
		}
	}
}

type devCase struct{ set, want, prompt string }

func readDevSet(t testing.TB) []devCase { return readCases(t, "testdata/devset.tsv") }

func readCases(t testing.TB, path string) []devCase {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []devCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			t.Fatalf("bad dev set line %q", line)
		}
		out = append(out, devCase{p[0], p[1], p[2]})
	}
	return out
}

// devFloor is the accuracy each part of the development set must keep (the figures reported
// in README.md, rounded down).
var devFloor = map[string]float64{"kong": 0.96, "domains": 0.97, "seed002": 0.31}

func TestDevSet(t *testing.T) { evalSet(t, readDevSet(t), devFloor) }

// TestHeldOut scores testdata/heldout.tsv, written before any parameter was chosen and scored
// once, after the last one was.
func TestHeldOut(t *testing.T) { evalSet(t, readCases(t, "testdata/heldout.tsv"), heldOutFloor) }

// heldOutFloor is the held-out accuracy reported in README.md, rounded down.
var heldOutFloor = map[string]float64{"kong": 0.91, "domains": 0.75, "seed002": 0.25}

func evalSet(t *testing.T, cases []devCase, floors map[string]float64) {
	e := New()
	type tally struct{ ok, n int }
	per := map[string]*tally{}
	for _, c := range cases {
		s, ok := sets[c.set]
		if !ok {
			t.Fatalf("unknown set %q", c.set)
		}
		key := c.set + "/" + c.want
		if per[key] == nil {
			per[key] = &tally{}
		}
		if per[c.set] == nil {
			per[c.set] = &tally{}
		}
		got, sims := s.route(t, e, c.prompt)
		per[key].n++
		per[c.set].n++
		mark := "ok  "
		if got == c.want {
			per[key].ok++
			per[c.set].ok++
		} else {
			mark = "MISS"
		}
		if testing.Verbose() {
			t.Logf("%s %-8s %-12s→ %-12s %.2f %s", mark, c.set, c.want, got, sims, c.prompt)
		}
	}
	for _, k := range []string{"kong/programming", "kong/mathematics", "kong/CATCHALL", "kong",
		"domains/cooking", "domains/law", "domains/medicine", "domains/sports", "domains/CATCHALL", "domains",
		"seed002/programming", "seed002/real life", "seed002"} {
		if tl := per[k]; tl != nil {
			t.Logf("%-22s %3d/%3d = %5.1f%%", k, tl.ok, tl.n, 100*float64(tl.ok)/float64(tl.n))
		}
	}
	for set, floor := range floors {
		tl := per[set]
		if acc := float64(tl.ok) / float64(tl.n); acc < floor {
			t.Errorf("%s: accuracy %.3f below the floor %.3f", set, acc, floor)
		}
	}
}

// Seed 002 has no CATCHALL and a threshold of 0.7 (similarity ≥ 0.3). Its descriptions are
// roles ("Specialist in real life topics") rather than topics, which this embedder reads
// poorly: the nearest description is usually the right one, but everyday prompts stay below
// similarity 0.3 to "real life", so with the seed's threshold they would find no target.
// This test measures both (on these prompts and the dev set's seed002 part) and asserts the
// figures README.md reports, so a regression shows.
func TestSeed002(t *testing.T) {
	e := New()
	cases := []devCase{
		{"seed002", "programming", "How do I fix a bug in my Python code?"},
		{"seed002", "programming", "Why does my JavaScript function return undefined?"},
		{"seed002", "programming", "How do I write a SQL query that joins two tables?"},
		{"seed002", "programming", "How do I compile a C program with gcc?"},
		{"seed002", "real life", "How can I plan a family holiday on a budget?"},
		{"seed002", "real life", "What should I wear to a wedding?"},
		{"seed002", "real life", "How do I talk to my neighbour about the noise?"},
		{"seed002", "real life", "How can I keep my kitchen clean?"},
	}
	for _, c := range readDevSet(t) {
		if c.set == "seed002" {
			cases = append(cases, c)
		}
	}
	nearest, within := map[string]int{}, map[string]int{}
	n := map[string]int{}
	for _, c := range cases {
		vs, err := e.Embed(context.Background(), append([]string{c.prompt}, seed002Set.descs...))
		if err != nil {
			t.Fatal(err)
		}
		best, bestSim := "", -2.0
		for i := range seed002Set.descs {
			if s := cosine(vs[0], vs[i+1]); s > bestSim {
				best, bestSim = seed002Set.names[i], s
			}
		}
		n[c.want]++
		if best == c.want {
			nearest[c.want]++
			if 1-bestSim <= seed002Set.threshold {
				within[c.want]++
			}
		}
		t.Logf("want %-11s nearest %-11s sim %.3f %s", c.want, best, bestSim, c.prompt)
	}
	for _, k := range []string{"programming", "real life"} {
		t.Logf("%-11s nearest right %2d/%2d, right and within 0.7: %2d/%2d", k, nearest[k], n[k], within[k], n[k])
	}
	if nearest["programming"] < seed002Floor.progNearest || within["programming"] < seed002Floor.progWithin ||
		nearest["real life"] < seed002Floor.lifeNearest {
		t.Errorf("seed 002 below its floor %+v", seed002Floor)
	}
}

// seed002Floor: the figures reported in README.md.
var seed002Floor = struct{ progNearest, progWithin, lifeNearest int }{11, 7, 10}
