package vectorstore

import (
	"cmp"
	"context"
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
	vectors map[string][]float32
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store measuring with metric (empty means Cosine). dims, when
// not zero, is the length every vector must have.
func NewMemory(metric Metric, dims int) *Memory {
	if metric == "" {
		metric = Cosine
	}
	return &Memory{metric: metric, dims: dims, vectors: map[string][]float32{}}
}

// Upsert stores copies of vectors.
func (m *Memory) Upsert(_ context.Context, vectors ...Vector) error {
	for _, v := range vectors {
		if m.dims != 0 {
			if err := CheckDimensions(v.Values, m.dims); err != nil {
				return err
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range vectors {
		m.vectors[v.ID] = slices.Clone(v.Values)
	}
	return nil
}

// Search scans every stored vector.
func (m *Memory) Search(_ context.Context, query []float32, k int) ([]Match, error) {
	if m.dims != 0 {
		if err := CheckDimensions(query, m.dims); err != nil {
			return nil, err
		}
	}
	m.mu.RLock()
	matches := make([]Match, 0, len(m.vectors))
	for id, v := range m.vectors {
		if len(v) != len(query) {
			continue
		}
		matches = append(matches, Match{ID: id, Distance: Distance(m.metric, query, v)})
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
