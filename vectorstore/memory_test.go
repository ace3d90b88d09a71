package vectorstore_test

import (
	"fmt"
	"testing"

	"github.com/aiproxy/aiproxy/vectorstore"
	"github.com/aiproxy/aiproxy/vectorstore/vectortest"
)

func TestMemoryConformance(t *testing.T) {
	vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
		return vectorstore.NewMemory(metric, dims)
	})
}

// BenchmarkMemorySearch: 16 targets, at OpenAI's 1536 dimensions and at a small local
// embedder's 128.
func BenchmarkMemorySearch(b *testing.B) {
	for _, metric := range vectortest.Metrics {
		for _, dims := range []int{1536, 128} {
			b.Run(fmt.Sprintf("%s/16x%d", metric, dims), func(b *testing.B) {
				vectortest.Benchmark(b, vectorstore.NewMemory(metric, dims), metric, 16, dims)
			})
		}
	}
}
