package vectorstore

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"sync"
)

// Memory is a Store held in process memory: the default. Search is exact (a linear scan),
// which suits the handful of vectors a semantic balancer keeps.
type Memory struct {
	metric Metric
	dims   int

	mu      sync.RWMutex
	vectors map[string]entry
}

// entry is a stored vector with its L2 norm, computed once at Upsert.
type entry struct {
	values []float32
	norm   float64
}

var (
	_ Store  = (*Memory)(nil)
	_ Getter = (*Memory)(nil)
	_ Pruner = (*Memory)(nil)
)

// NewMemory returns an empty store measuring with metric (empty means Cosine). dims, when
// not zero, is the length every vector must have.
func NewMemory(metric Metric, dims int) *Memory {
	if metric == "" {
		metric = Cosine
	}
	return &Memory{metric: metric, dims: dims, vectors: map[string]entry{}}
}

// Upsert stores copies of vectors.
func (m *Memory) Upsert(_ context.Context, vectors ...Vector) error {
	if m.dims != 0 {
		if err := CheckVectors(m.dims, vectors); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range vectors {
		m.vectors[v.ID] = entry{values: slices.Clone(v.Values), norm: norm(v.Values)}
	}
	return nil
}

// Get returns copies of the stored vectors of ids, in order, leaving out the missing ones.
func (m *Memory) Get(_ context.Context, ids ...string) ([]Vector, error) {
	out := make([]Vector, 0, len(ids))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range ids {
		if e, ok := m.vectors[id]; ok {
			out = append(out, Vector{ID: id, Values: slices.Clone(e.values)})
		}
	}
	return out, nil
}

// Prune deletes the vectors stale picks.
func (m *Memory) Prune(_ context.Context, stale func(id string) bool) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id := range m.vectors {
		if stale(id) {
			delete(m.vectors, id)
			n++
		}
	}
	return n, nil
}

// Search scans every stored vector.
func (m *Memory) Search(_ context.Context, query []float32, k int) ([]Match, error) {
	if m.dims != 0 {
		if err := CheckDimensions(query, m.dims); err != nil {
			return nil, err
		}
	}
	qnorm := norm(query)
	m.mu.RLock()
	matches := make([]Match, 0, len(m.vectors))
	for id, e := range m.vectors {
		if len(e.values) != len(query) {
			continue
		}
		var d float64
		if m.metric == Euclidean {
			d = l2(query, e.values)
		} else {
			d = cosineDistance(query, e.values, qnorm, e.norm)
		}
		matches = append(matches, Match{ID: id, Distance: d})
	}
	m.mu.RUnlock()
	slices.SortFunc(matches, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), strings.Compare(a.ID, b.ID))
	})
	if k >= 0 && len(matches) > k {
		matches = matches[:k]
	}
	return matches, nil
}

// cosineDistance is Distance(Cosine, a, b) given the norms of a and b: one dot product per
// stored vector instead of three sums.
func cosineDistance(a, b []float32, na, nb float64) float64 {
	if na == 0 || nb == 0 {
		return 1
	}
	return 1 - dot(a, b)/(na*nb)
}

func norm(v []float32) float64 { return math.Sqrt(dot(v, v)) }

// dot is the dot product of a and b (len(b) >= len(a)), accumulated in float64 over four
// independent sums so the CPU can overlap them.
func dot(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(a[i]) * float64(b[i])
		s1 += float64(a[i+1]) * float64(b[i+1])
		s2 += float64(a[i+2]) * float64(b[i+2])
		s3 += float64(a[i+3]) * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// l2 is Distance(Euclidean, a, b) over four independent sums (len(b) >= len(a)).
func l2(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i]) - float64(b[i])
		d1 := float64(a[i+1]) - float64(b[i+1])
		d2 := float64(a[i+2]) - float64(b[i+2])
		d3 := float64(a[i+3]) - float64(b[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := float64(a[i]) - float64(b[i])
		s0 += d * d
	}
	return math.Sqrt((s0 + s1) + (s2 + s3))
}
