package intenteval

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	items := []Item{
		{Target: "a"}, {Target: "a"}, {Target: "b"}, {Target: "b"},
		{Target: Catchall}, {Target: Catchall}, {Target: Catchall}, {Target: Catchall},
	}
	out := []Outcome{
		{"a", 0.1}, {"b", 0.2}, {"b", 0.3}, {"b", 0.6},
		{"a", 0.25}, {"b", 0.5}, {"a", 0.7}, {"b", 0.9},
	}
	r := Score(items, out)
	if r.InScope != 4 || r.OutOfScope != 4 || r.Nearest != 0.75 {
		t.Errorf("counts %d/%d, nearest %v; want 4/4, 0.75", r.InScope, r.OutOfScope, r.Nearest)
	}
	// Accepting ≤ 0.3 right-routes 0.1 and 0.3 (0.2 goes to the wrong target) and lets one of
	// four out-of-scope in: 75 % recall. Accepting 0.5 as well would leave 50 %.
	if r.BestInScope != 0.5 || r.BestCut != 0.4 {
		t.Errorf("best %v at %v, want 0.5 at 0.4", r.BestInScope, r.BestCut)
	}
	if in, oos := At(items, out, 0.4); in != 0.5 || oos != 0.75 {
		t.Errorf("At(0.4) = %v, %v; want 0.5, 0.75", in, oos)
	}
	if in, oos := At(items, out, math.Inf(1)); in != 0.75 || oos != 0 {
		t.Errorf("At(+Inf) = %v, %v; want 0.75, 0", in, oos)
	}
}

func TestLoad(t *testing.T) {
	for _, name := range Sets {
		s, err := Load("../../testdata/intents", name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range s.Targets {
			if n := len(s.Examples[tg]); n != 40 {
				t.Errorf("%s/%s: %d examples, want 40", name, tg, n)
			}
		}
		seen := map[string]bool{}
		for _, part := range [][]Item{s.Dev, s.Heldout} {
			for _, it := range part {
				if seen[it.Text] {
					t.Errorf("%s: %q twice", name, it.Text)
				}
				seen[it.Text] = true
			}
		}
		for _, exs := range s.Examples {
			for _, ex := range exs {
				if seen[ex] {
					t.Errorf("%s: example %q is also a query", name, ex)
				}
			}
		}
	}
}
