package vectorstore_test

import (
	"testing"

	"github.com/aiproxy/aiproxy/vectorstore"
	"github.com/aiproxy/aiproxy/vectorstore/vectortest"
)

func TestMemoryConformance(t *testing.T) {
	vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
		return vectorstore.NewMemory(metric, dims)
	})
}

func BenchmarkMemorySearch(b *testing.B) {
	for _, metric := range vectortest.Metrics {
		b.Run(string(metric), func(b *testing.B) {
			vectortest.Benchmark(b, vectorstore.NewMemory(metric, 1536), metric, 16, 1536)
		})
	}
}
