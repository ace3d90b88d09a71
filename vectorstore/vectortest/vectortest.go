// Package vectortest is the conformance suite every vectorstore.Store passes. A store's test
// calls Run with a constructor; Replicas checks that two stores over the same backend share
// their vectors, and Benchmark measures Search.
//
//	func TestConformance(t *testing.T) {
//		vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
//			return vectorstore.NewMemory(metric, dims)
//		})
//	}
package vectortest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aiproxy/aiproxy/vectorstore"
)

// NewStore returns an empty store that measures with metric and holds vectors of dims values.
// Every call must return a store that shares nothing with the stores of earlier calls (for a
// server-backed store: a fresh namespace or table). It registers its own cleanup with
// t.Cleanup (closing connections, dropping what it created).
type NewStore func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store

// NewPair returns two stores, as two replicas of a service would open them: separate
// instances (separate connections) over the same backend and the same namespace, initially
// empty. Like NewStore, it must not share anything with earlier calls.
type NewPair func(t *testing.T, metric vectorstore.Metric, dims int) (a, b vectorstore.Store)

// Tolerance is how far a store's distances may be from vectorstore.Distance over the same
// float32 values. Servers compute in float32 and may normalise vectors first.
const Tolerance = 1e-4

// Metrics are the metrics the suite covers.
var Metrics = []vectorstore.Metric{vectorstore.Cosine, vectorstore.Euclidean}

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, metric := range Metrics {
		t.Run(string(metric), func(t *testing.T) {
			t.Run("Empty", func(t *testing.T) { testEmpty(t, newStore, metric) })
			t.Run("Nearest", func(t *testing.T) { testNearest(t, newStore, metric, 8, 24) })
			t.Run("Nearest1536", func(t *testing.T) { testNearest(t, newStore, metric, 1536, 16) })
			t.Run("ExactMatch", func(t *testing.T) { testExactMatch(t, newStore, metric) })
			t.Run("Replace", func(t *testing.T) { testReplace(t, newStore, metric) })
			t.Run("ReplaceInOneCall", func(t *testing.T) { testReplaceInOneCall(t, newStore, metric) })
			t.Run("Limits", func(t *testing.T) { testLimits(t, newStore, metric) })
			t.Run("Dimensions", func(t *testing.T) { testDimensions(t, newStore, metric) })
			t.Run("IDs", func(t *testing.T) { testIDs(t, newStore, metric) })
			t.Run("NoAliasing", func(t *testing.T) { testNoAliasing(t, newStore, metric) })
			t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore, metric) })
			t.Run("Get", func(t *testing.T) { testGet(t, newStore, metric) })
			t.Run("Prune", func(t *testing.T) { testPrune(t, newStore, metric) })
		})
	}
}

// Replicas checks that what one replica upserts, the other finds, and that replacements by
// either are seen by both.
func Replicas(t *testing.T, newPair NewPair) {
	t.Helper()
	for _, metric := range Metrics {
		t.Run(string(metric), func(t *testing.T) {
			ctx := context.Background()
			const dims = 16
			a, b := newPair(t, metric, dims)
			rng := newRand(t)
			vs := randomVectors(rng, "target-", 6, dims)
			must(t, a.Upsert(ctx, vs...))
			q := randomVector(rng, dims)
			checkSearch(t, b, metric, vs, q, len(vs))
			checkSearch(t, a, metric, vs, q, len(vs))

			// b replaces one of a's vectors and adds one: a sees both.
			vs[2].Values = randomVector(rng, dims)
			extra := vectorstore.Vector{ID: "target-extra", Values: randomVector(rng, dims)}
			must(t, b.Upsert(ctx, vs[2], extra))
			vs = append(vs, extra)
			checkSearch(t, a, metric, vs, q, len(vs))
			checkSearch(t, a, metric, vs, vs[2].Values, 1)
			// What either stored, the other gets (when the store is a Getter).
			ids := make([]string, len(vs))
			for i, v := range vs {
				ids[i] = v.ID
			}
			for _, s := range []vectorstore.Store{a, b} {
				if g, ok := s.(vectorstore.Getter); ok {
					got, err := g.Get(ctx, ids...)
					must(t, err)
					checkGet(t, "replica Get", got, vs)
				}
			}
		})
	}
}

// Benchmark measures Search over n vectors of dims values (the figure is 16 × 1536).
func Benchmark(b *testing.B, store vectorstore.Store, metric vectorstore.Metric, n, dims int) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	vs := randomVectors(rng, "bench-", n, dims)
	if err := store.Upsert(ctx, vs...); err != nil {
		b.Fatal(err)
	}
	q := randomVector(rng, dims)
	want := expected(metric, vs, q)[0].ID
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := store.Search(ctx, q, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != want {
			b.Fatalf("Search = %v, want %s first", got, want)
		}
	}
}

func testEmpty(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	s := newStore(t, metric, 4)
	for _, k := range []int{1, 10, -1} {
		got, err := s.Search(ctx, []float32{1, 2, 3, 4}, k)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("Search(k=%d) on an empty store = %v, want nothing", k, got)
		}
	}
	// Upserting nothing is allowed and changes nothing.
	must(t, s.Upsert(ctx))
	got, err := s.Search(ctx, []float32{1, 2, 3, 4}, 10)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("after Upsert(): Search = %v, want nothing", got)
	}
}

func testNearest(t *testing.T, newStore NewStore, metric vectorstore.Metric, dims, n int) {
	ctx := context.Background()
	s := newStore(t, metric, dims)
	rng := newRand(t)
	vs := randomVectors(rng, "v", n, dims)
	// Upsert in two calls to cover batches and single vectors.
	must(t, s.Upsert(ctx, vs[:n/2]...))
	for _, v := range vs[n/2:] {
		must(t, s.Upsert(ctx, v))
	}
	for range 5 {
		q := randomVector(rng, dims)
		checkSearch(t, s, metric, vs, q, n)
		checkSearch(t, s, metric, vs, q, 3)
		checkSearch(t, s, metric, vs, q, 1)
	}
}

func testExactMatch(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims = 32
	s := newStore(t, metric, dims)
	rng := newRand(t)
	vs := randomVectors(rng, "doc-", 10, dims)
	must(t, s.Upsert(ctx, vs...))
	for _, v := range vs {
		got, err := s.Search(ctx, v.Values, 1)
		must(t, err)
		if len(got) != 1 || got[0].ID != v.ID || math.Abs(got[0].Distance) > Tolerance {
			t.Errorf("Search(%s's own vector, 1) = %v, want [{%s 0}]", v.ID, got, v.ID)
		}
	}
	if metric == vectorstore.Cosine {
		// Cosine ignores length: a scaled copy is as near as the vector itself.
		q := slices.Clone(vs[3].Values)
		for i := range q {
			q[i] *= 3.5
		}
		got, err := s.Search(ctx, q, 1)
		must(t, err)
		if len(got) != 1 || got[0].ID != vs[3].ID || math.Abs(got[0].Distance) > Tolerance {
			t.Errorf("Search(3.5 × %s, 1) = %v, want [{%s 0}]", vs[3].ID, got, vs[3].ID)
		}
		// The opposite direction is at distance 2.
		for i := range q {
			q[i] = -vs[3].Values[i]
		}
		got, err = s.Search(ctx, q, len(vs))
		must(t, err)
		if last := got[len(got)-1]; last.ID != vs[3].ID || math.Abs(last.Distance-2) > Tolerance {
			t.Errorf("Search(-%s) ends with %v, want {%s 2}", vs[3].ID, last, vs[3].ID)
		}
	}
}

func testReplace(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims = 8
	s := newStore(t, metric, dims)
	rng := newRand(t)
	vs := randomVectors(rng, "r", 5, dims)
	must(t, s.Upsert(ctx, vs...))
	old := vs[1].Values
	vs[1].Values = randomVector(rng, dims)
	must(t, s.Upsert(ctx, vs[1]))
	// One entry per ID, measured against the new vector.
	checkSearch(t, s, metric, vs, old, len(vs)+3)
	checkSearch(t, s, metric, vs, vs[1].Values, len(vs))
	got, err := s.Search(ctx, vs[1].Values, 1)
	must(t, err)
	if len(got) != 1 || got[0].ID != vs[1].ID || math.Abs(got[0].Distance) > Tolerance {
		t.Errorf("after replacing r1: Search(new r1) = %v, want [{r1 0}]", got)
	}
}

func testReplaceInOneCall(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims = 8
	s := newStore(t, metric, dims)
	rng := newRand(t)
	first := vectorstore.Vector{ID: "same", Values: randomVector(rng, dims)}
	other := vectorstore.Vector{ID: "other", Values: randomVector(rng, dims)}
	last := vectorstore.Vector{ID: "same", Values: randomVector(rng, dims)}
	must(t, s.Upsert(ctx, first, other, last))
	// The last vector given for an ID wins.
	checkSearch(t, s, metric, []vectorstore.Vector{last, other}, first.Values, 5)
}

func testLimits(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims, n = 8, 7
	s := newStore(t, metric, dims)
	rng := newRand(t)
	vs := randomVectors(rng, "k", n, dims)
	must(t, s.Upsert(ctx, vs...))
	q := randomVector(rng, dims)
	want := expected(metric, vs, q)
	for _, k := range []int{0, 1, 2, n - 1, n, n + 1, 100, -1} {
		got, err := s.Search(ctx, q, k)
		must(t, err)
		wantLen := min(k, n)
		if k < 0 {
			wantLen = n // a negative k means no limit
		}
		if len(got) != wantLen {
			t.Errorf("Search(k=%d) returned %d matches, want %d", k, len(got), wantLen)
			continue
		}
		compare(t, fmt.Sprintf("Search(k=%d)", k), got, want[:wantLen], vs, metric, q)
	}
}

func testDimensions(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims = 4
	s := newStore(t, metric, dims)
	good := vectorstore.Vector{ID: "good", Values: []float32{1, 2, 3, 4}}
	for _, values := range [][]float32{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		bad := vectorstore.Vector{ID: "bad", Values: values}
		if err := s.Upsert(ctx, good, bad); !errors.Is(err, vectorstore.ErrDimensions) {
			t.Errorf("Upsert(good, %d values) = %v, want ErrDimensions", len(values), err)
		}
		if _, err := s.Search(ctx, values, 1); !errors.Is(err, vectorstore.ErrDimensions) {
			t.Errorf("Search(%d values) = %v, want ErrDimensions", len(values), err)
		}
	}
	// A rejected call stores nothing, not even its valid vectors.
	got, err := s.Search(ctx, good.Values, 10)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("after rejected Upserts: Search = %v, want nothing", got)
	}
	must(t, s.Upsert(ctx, good))
	got, err = s.Search(ctx, good.Values, 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != "good" {
		t.Errorf("Search = %v, want [good]", got)
	}
}

func testIDs(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims = 8
	s := newStore(t, metric, dims)
	rng := newRand(t)
	ids := []string{
		"a", "A", "with space", "colon:separated:id", "{hash}tag", "*", "[x]", `quote"'`,
		"ünïcødé-描述", "sha256:" + strings.Repeat("0123456789abcdef", 4), "--", "%s", "\\",
	}
	var vs []vectorstore.Vector
	for _, id := range ids {
		vs = append(vs, vectorstore.Vector{ID: id, Values: randomVector(rng, dims)})
	}
	must(t, s.Upsert(ctx, vs...))
	checkSearch(t, s, metric, vs, randomVector(rng, dims), len(vs))
	for _, v := range vs {
		got, err := s.Search(ctx, v.Values, 1)
		must(t, err)
		if len(got) != 1 || got[0].ID != v.ID {
			t.Errorf("Search(vector of %q) = %v, want %q", v.ID, got, v.ID)
		}
	}
}

func testNoAliasing(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	s := newStore(t, metric, 3)
	v := vectorstore.Vector{ID: "v", Values: []float32{1, 2, 3}}
	w := vectorstore.Vector{ID: "w", Values: []float32{3, -1, 2}}
	must(t, s.Upsert(ctx, v, w))
	want := []vectorstore.Vector{{ID: "v", Values: []float32{1, 2, 3}}, {ID: "w", Values: []float32{3, -1, 2}}}
	v.Values[0], w.Values[1] = 100, 100 // the caller reuses its slices
	checkSearch(t, s, metric, want, []float32{1, 2, 3}, 2)
}

func testConcurrent(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	const dims, writers, each = 16, 4, 8
	s := newStore(t, metric, dims)
	rng := newRand(t)
	batches := make([][]vectorstore.Vector, writers)
	var all []vectorstore.Vector
	for w := range batches {
		batches[w] = randomVectors(rng, fmt.Sprintf("w%d-", w), each, dims)
		all = append(all, batches[w]...)
	}
	queries := make([][]float32, writers)
	for i := range queries {
		queries[i] = randomVector(rng, dims)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for w := range writers {
		wg.Go(func() { // a writer upserts its vectors one by one
			for _, v := range batches[w] {
				if err := s.Upsert(ctx, v); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() { // a reader searches meanwhile: results are well-formed
			for range each {
				got, err := s.Search(ctx, queries[w], 5)
				if err != nil {
					errs <- err
					continue
				}
				if len(got) > 5 || !slices.IsSortedFunc(got, func(a, b vectorstore.Match) int {
					return cmp.Compare(a.Distance, b.Distance)
				}) {
					errs <- fmt.Errorf("concurrent Search = %v: too many or not nearest first", got)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkSearch(t, s, metric, all, queries[0], len(all))
}

// testGet checks vectorstore.Getter, for stores that implement it: the stored vectors of
// the IDs that exist, in the order asked, the latest of each.
func testGet(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	for _, dims := range []int{8, 1536} {
		s := newStore(t, metric, dims)
		g, ok := s.(vectorstore.Getter)
		if !ok {
			t.Logf("%T does not implement vectorstore.Getter (optional)", s)
			return
		}
		got, err := g.Get(ctx, "missing", "also missing")
		must(t, err)
		checkGet(t, "Get on an empty store", got, nil)
		got, err = g.Get(ctx)
		must(t, err)
		checkGet(t, "Get()", got, nil)

		rng := newRand(t)
		var vs []vectorstore.Vector
		for i, id := range []string{"a", "with space", "colon:separated:id", "{hash}tag", "*", `quote"'`, "ünïcødé-描述", "%s", "\\"} {
			vs = append(vs, vectorstore.Vector{ID: id, Values: randomVector(rng, dims)})
			for j := range vs[i].Values { // lengths other than 1
				vs[i].Values[j] *= float32(i + 1)
			}
		}
		must(t, s.Upsert(ctx, vs...))
		// In the order asked, leaving out the missing.
		got, err = g.Get(ctx, vs[4].ID, "missing", vs[0].ID, vs[7].ID, "A")
		must(t, err)
		checkGet(t, "Get(4, missing, 0, 7, A)", got, []vectorstore.Vector{vs[4], vs[0], vs[7]})
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
		}
		got, err = g.Get(ctx, ids...)
		must(t, err)
		checkGet(t, "Get(all)", got, vs)

		// A replaced vector is returned as replaced; the caller's slices are its own.
		vs[2].Values = randomVector(rng, dims)
		must(t, s.Upsert(ctx, vs[2]))
		got, err = g.Get(ctx, vs[2].ID)
		must(t, err)
		checkGet(t, "Get(replaced)", got, vs[2:3])
		got[0].Values[0] = 1e6
		got, err = g.Get(ctx, vs[2].ID)
		must(t, err)
		checkGet(t, "Get after changing what Get returned", got, vs[2:3])
	}
}

// testPrune checks vectorstore.Pruner, for stores that implement it: the vectors picked
// are deleted, the others stay.
func testPrune(t *testing.T, newStore NewStore, metric vectorstore.Metric) {
	ctx := context.Background()
	s := newStore(t, metric, 8)
	p, ok := s.(vectorstore.Pruner)
	if !ok {
		t.Logf("%T does not implement vectorstore.Pruner (optional)", s)
		return
	}
	n, err := p.Prune(ctx, func(string) bool { return true })
	must(t, err)
	if n != 0 {
		t.Fatalf("Prune on an empty store deleted %d", n)
	}
	rng := newRand(t)
	var vs []vectorstore.Vector
	for _, id := range []string{"a:1", "a:2", "a:3", "a", "b:1", "with space", "ünïcødé-描述", "%", "_"} {
		vs = append(vs, vectorstore.Vector{ID: id, Values: randomVector(rng, 8)})
	}
	must(t, s.Upsert(ctx, vs...))
	var mu sync.Mutex
	seen := map[string]int{}
	n, err = p.Prune(ctx, func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		seen[id]++
		return id == "a:2" || id == "a:3" || id == "%" || id == "not stored"
	})
	must(t, err)
	if n != 3 {
		t.Errorf("Prune deleted %d vectors, want 3 (a:2, a:3, %%)", n)
	}
	for _, v := range vs {
		if seen[v.ID] != 1 {
			t.Errorf("Prune asked about %q %d times, want once", v.ID, seen[v.ID])
		}
	}
	kept := []vectorstore.Vector{vs[0], vs[3], vs[4], vs[5], vs[6], vs[8]}
	checkSearch(t, s, metric, kept, randomVector(rng, 8), len(vs))
	n, err = p.Prune(ctx, func(string) bool { return false })
	must(t, err)
	if n != 0 {
		t.Errorf("Prune of nothing deleted %d", n)
	}
	checkSearch(t, s, metric, kept, randomVector(rng, 8), len(vs))
}

// checkGet compares what Get returned with want: the same IDs in the same order, and each
// value within Tolerance of the vector's largest magnitude (a store may normalise).
func checkGet(t *testing.T, what string, got, want []vectorstore.Vector) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s returned %d vectors, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || len(g.Values) != len(w.Values) {
			t.Errorf("%s: vector %d is %q with %d values, want %q with %d", what, i, g.ID, len(g.Values), w.ID, len(w.Values))
			continue
		}
		var scale float64
		for _, v := range w.Values {
			scale = max(scale, math.Abs(float64(v)))
		}
		for j := range w.Values {
			if math.Abs(float64(g.Values[j])-float64(w.Values[j])) > Tolerance*scale {
				t.Errorf("%s: %q[%d] = %v, want %v", what, g.ID, j, g.Values[j], w.Values[j])
				break
			}
		}
	}
}

// checkSearch searches s for q and compares with the exact answer over stored.
func checkSearch(t *testing.T, s vectorstore.Store, metric vectorstore.Metric, stored []vectorstore.Vector, q []float32, k int) {
	t.Helper()
	got, err := s.Search(context.Background(), q, k)
	if err != nil {
		t.Fatalf("Search(k=%d): %v", k, err)
	}
	want := expected(metric, stored, q)
	if k < len(want) {
		want = want[:k]
	}
	if len(got) != len(want) {
		t.Fatalf("Search(k=%d) returned %d matches, want %d:\n got %v\nwant %v", k, len(got), len(want), got, want)
	}
	compare(t, fmt.Sprintf("Search(k=%d)", k), got, want, stored, metric, q)
}

// compare checks got against the exact answer want. Matches whose distances differ by less
// than Tolerance may come in either order.
func compare(t *testing.T, what string, got, want []vectorstore.Match, stored []vectorstore.Vector, metric vectorstore.Metric, q []float32) {
	t.Helper()
	byID := map[string][]float32{}
	for _, v := range stored {
		byID[v.ID] = v.Values
	}
	seen := map[string]bool{}
	for i, m := range got {
		if seen[m.ID] {
			t.Errorf("%s: %q returned twice: %v", what, m.ID, got)
		}
		seen[m.ID] = true
		values, ok := byID[m.ID]
		if !ok {
			t.Errorf("%s: unknown ID %q", what, m.ID)
			continue
		}
		if d := vectorstore.Distance(metric, q, values); math.Abs(m.Distance-d) > Tolerance {
			t.Errorf("%s: %q at distance %.6f, want %.6f", what, m.ID, m.Distance, d)
		}
		if math.Abs(m.Distance-want[i].Distance) > Tolerance {
			t.Errorf("%s: match %d is %v, want %v (not nearest first)\n got %v\nwant %v", what, i, m, want[i], got, want)
		}
	}
}

// expected is the exact answer: every stored vector, nearest first.
func expected(metric vectorstore.Metric, stored []vectorstore.Vector, q []float32) []vectorstore.Match {
	last := map[string][]float32{}
	for _, v := range stored {
		last[v.ID] = v.Values
	}
	var ms []vectorstore.Match
	for id, values := range last {
		ms = append(ms, vectorstore.Match{ID: id, Distance: vectorstore.Distance(metric, q, values)})
	}
	slices.SortFunc(ms, func(a, b vectorstore.Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), strings.Compare(a.ID, b.ID))
	})
	return ms
}

func newRand(t *testing.T) *rand.Rand {
	var seed uint64
	for _, c := range t.Name() {
		seed = seed*31 + uint64(c)
	}
	return rand.New(rand.NewPCG(seed, 42))
}

// randomVector returns values in [-1, 1), never all zero.
func randomVector(rng *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	v[0] += 0.01
	return v
}

func randomVectors(rng *rand.Rand, prefix string, n, dims int) []vectorstore.Vector {
	vs := make([]vectorstore.Vector, n)
	for i := range vs {
		vs[i] = vectorstore.Vector{ID: fmt.Sprintf("%s%d", prefix, i), Values: randomVector(rng, dims)}
	}
	return vs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
