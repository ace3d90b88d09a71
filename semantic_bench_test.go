package aiproxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
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

// BenchmarkSemanticDecisionCombined is the routing decision with ScoreCombined for a
// prompt whose embedding is cached: HWU64's 10 targets of embed/offline's intent data with
// 50 texts each (description, 40 examples, 9 development utterances), 500 in all.
//
//	go test -run '^$' -bench SemanticDecision -benchmem -count 3 .
func BenchmarkSemanticDecisionCombined(b *testing.B) {
	f, err := os.ReadFile("embed/offline/testdata/intents/hwu64.tsv")
	if err != nil {
		b.Fatal(err)
	}
	texts := map[string][]string{}
	var names []string
	for line := range strings.Lines(string(f)) {
		fs := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(fs) != 4 || fs[1] == Catchall || (fs[0] != "example" && fs[0] != "dev") || len(texts[fs[1]]) == 50 {
			continue
		}
		if texts[fs[1]] == nil {
			names = append(names, fs[1])
		}
		texts[fs[1]] = append(texts[fs[1]], fs[3])
	}
	cfg := Config{Balancer: BalancerConfig{Algorithm: Semantic}, Embedder: offline.New(),
		VectorDB: &VectorDBConfig{Scoring: ScoreCombined}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n := 0
	for _, name := range names {
		ts := texts[name]
		cfg.Targets = append(cfg.Targets, Target{Model: provider.Model{Provider: "openai", Name: name}, Description: ts[0], Examples: ts[1:]})
		n += len(ts)
	}
	if len(names) != 10 || n != 500 {
		b.Fatalf("%d targets, %d texts; want 10 and 500", len(names), n)
	}
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	const prompt = "could you wake me up at seven tomorrow morning and then read me the latest headlines"
	if _, _, err := p.semantic.decide(ctx, prompt, false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.semantic.decide(ctx, prompt, false); err != nil {
			b.Fatal(err)
		}
	}
}
