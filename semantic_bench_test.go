package aiproxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
)

// BenchmarkSemanticDecision is the routing decision for a prompt whose embedding is cached:
// a search of 16 descriptions in the memory store with the offline embedder's vectors.
//
//	go test -run '^$' -bench SemanticDecision -benchmem -count 3 .
func BenchmarkSemanticDecision(b *testing.B) {
	topics := []string{"programming", "mathematics", "cooking", "law", "medicine", "sports", "music", "history",
		"geography", "chemistry", "physics", "biology", "finance", "travel", "gardening", "astronomy"}
	cfg := Config{Balancer: BalancerConfig{Algorithm: Semantic}, Embedder: offline.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i, topic := range topics {
		cfg.Targets = append(cfg.Targets, Target{
			Model:       provider.Model{Provider: "openai", Name: fmt.Sprintf("m%d", i)},
			Description: topic + ", questions about " + topic,
		})
	}
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	const prompt = "What is the derivative of sin(x)?"
	g, _, err := p.semantic.decide(ctx, prompt, false)
	if err != nil || g == nil || g.description != "mathematics, questions about mathematics" {
		b.Fatalf("decide: %v, %+v", err, g)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.semantic.decide(ctx, prompt, false); err != nil {
			b.Fatal(err)
		}
	}
}
