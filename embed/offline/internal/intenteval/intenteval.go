// Package intenteval measures semantic routing on public intent data: Banking77, HWU64 and
// SNIPS, regrouped into a few routing targets each plus out-of-scope utterances that must go
// to CATCHALL (embed/offline/testdata/intents, built by scripts/intent-eval/convert.sh).
//
// Every set has a development part (dev), on which routing choices may be tuned, and a
// held-out part (heldout), scored once per change. A router is measured by
//
//   - the best in-scope accuracy at ≥ 70 % out-of-scope recall, over every threshold (what
//     the router can do when its threshold is set well);
//   - the in-scope accuracy with no threshold (the nearest target's share of right answers);
//   - the in-scope accuracy and out-of-scope recall at the router's own operating point (a
//     threshold fitted on dev, or calibrated from the examples alone).
//
// Run the report with
//
//	go test -run TestIntentReport -v ./embed/offline/internal/intenteval
package intenteval

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Catchall is the label of out-of-scope utterances.
const Catchall = "CATCHALL"

// MinOutOfScopeRecall is the out-of-scope recall at which in-scope accuracy is reported.
const MinOutOfScopeRecall = 0.70

// Item is a labelled utterance.
type Item struct {
	Target string // a target's name, or Catchall
	Intent string // the source data set's intent
	Text   string
}

// Set is one data set's routing problem.
type Set struct {
	Name         string
	Targets      []string          // sorted
	Descriptions map[string]string // by target
	Examples     map[string][]string
	Dev, Heldout []Item
}

// Sets are the names of the data sets, in report order.
var Sets = []string{"banking77", "hwu64", "snips"}

// Load reads set name from dir (embed/offline/testdata/intents).
func Load(dir, name string) (*Set, error) {
	s := &Set{Name: name, Descriptions: map[string]string{}, Examples: map[string][]string{}}
	err := readTSV(filepath.Join(dir, "descriptions.tsv"), 3, func(f []string) error {
		if f[0] == name {
			s.Descriptions[f[1]] = f[2]
			s.Targets = append(s.Targets, f[1])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(s.Targets)
	err = readTSV(filepath.Join(dir, name+".tsv"), 4, func(f []string) error {
		if f[1] != Catchall && s.Descriptions[f[1]] == "" {
			return fmt.Errorf("target %q has no description", f[1])
		}
		it := Item{Target: f[1], Intent: f[2], Text: f[3]}
		switch f[0] {
		case "example":
			s.Examples[it.Target] = append(s.Examples[it.Target], it.Text)
		case "dev":
			s.Dev = append(s.Dev, it)
		case "heldout":
			s.Heldout = append(s.Heldout, it)
		default:
			return fmt.Errorf("unknown part %q", f[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(s.Targets) == 0 || len(s.Dev) == 0 || len(s.Heldout) == 0 {
		return nil, fmt.Errorf("%s: no targets or no queries", name)
	}
	return s, nil
}

func readTSV(path string, fields int, row func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != fields {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, n, len(fs), fields)
		}
		if err := row(fs); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// Outcome is a router's answer for one utterance: the best target whatever the threshold,
// and a score that a threshold applies to (smaller is nearer: a distance, or a distance
// minus the target's own threshold). Score ≤ Cut accepts Target; otherwise CATCHALL.
type Outcome struct {
	Target string
	Score  float64
}

// Result sums up a router's outcomes on a labelled part.
type Result struct {
	InScope, OutOfScope int
	// BestInScope is the best in-scope accuracy over every cut that sends at least
	// MinOutOfScopeRecall of out-of-scope utterances to CATCHALL; BestCut is that cut.
	BestInScope, BestCut float64
	// Nearest is the in-scope accuracy with no threshold.
	Nearest float64
}

// Score measures outcomes (one per item) at every cut.
func Score(items []Item, out []Outcome) Result {
	var r Result
	type point struct {
		score   float64
		inScope bool // a right in-scope answer when accepted
		oos     bool
	}
	pts := make([]point, len(items))
	var nearest int
	for i, it := range items {
		pts[i] = point{score: out[i].Score, oos: it.Target == Catchall}
		if pts[i].oos {
			r.OutOfScope++
			continue
		}
		r.InScope++
		if out[i].Target == it.Target {
			nearest++
			pts[i].inScope = true
		}
	}
	r.Nearest = ratio(nearest, r.InScope)
	slices.SortFunc(pts, func(a, b point) int { return cmpFloat(a.score, b.score) })
	// A cut between pts[k-1] and pts[k] accepts pts[:k].
	right, accepted := 0, 0
	r.BestCut = math.Inf(-1) // accepts nothing: in-scope accuracy 0
	for k := 1; k <= len(pts); k++ {
		if pts[k-1].inScope {
			right++
		}
		if pts[k-1].oos {
			accepted++
		}
		if k < len(pts) && pts[k].score == pts[k-1].score {
			continue // no cut between equal scores
		}
		if ratio(r.OutOfScope-accepted, r.OutOfScope) < MinOutOfScopeRecall {
			break
		}
		if acc := ratio(right, r.InScope); acc > r.BestInScope {
			r.BestInScope = acc
			switch {
			case k == len(pts):
				r.BestCut = math.Inf(1)
			default:
				r.BestCut = (pts[k-1].score + pts[k].score) / 2
			}
		}
	}
	return r
}

// At is the in-scope accuracy and out-of-scope recall of outcomes at cut.
func At(items []Item, out []Outcome, cut float64) (inScope, oosRecall float64) {
	var in, inRight, oos, oosRight int
	for i, it := range items {
		accepted := out[i].Score <= cut
		if it.Target == Catchall {
			oos++
			if !accepted {
				oosRight++
			}
			continue
		}
		in++
		if accepted && out[i].Target == it.Target {
			inRight++
		}
	}
	return ratio(inRight, in), ratio(oosRight, oos)
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
