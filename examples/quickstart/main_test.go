package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's first command must keep showing what it promises: seed 000's prompts routed
// by meaning with their distances and the threshold, keys from the vault, then aliases,
// failover, streaming and the unknown-model error, then where to look next.
func TestQuickstart(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out))
	got := out.String()
	for _, want := range []string{
		"threshold 0.80 (cosine distance)",
		`answer: "Hello from gpt-4o-mini on upstream B"`,
		"attempt on openai/gpt-4o#0 failed: HTTP 503",
		`answer: "Hello from gpt-4o on upstream B"`,
		"served by target openai/gpt-4o#1 after 2 attempt(s)",
		`chunks: "Hello " "from " "gpt-4o " "on " "upstream " "A"`,
		"tokens: 7 prompt + 8 completion = 15",
		`HTTP 400: the model "slow" is not served here; use one of: fast, gpt-4o, gpt-4o-mini, powerful`,
		"go run ./cmd/aiproxy validate -config examples/quickstart/seed000.yaml -config examples/quickstart/vaults.yaml",
		"go run ./cmd/aiproxy route -offline-embeddings",
	} {
		assert.Contains(t, got, want)
	}
	// Each seed prompt goes where the how-to says, with a distance per description and a ✓
	// on the one within the threshold, if any.
	for _, row := range []struct{ prompt, served string }{
		{"How can I build a REST API using Flask?", `0\.\d{4} ✓\s+0\.\d{4}\s+gpt-3\.5-turbo`},
		{"How can you effectively debug asynchronous code…", `0\.\d{4} ✓\s+0\.\d{4}\s+gpt-3\.5-turbo`},
		{"What is the derivative of sin(x)?", `\d\.\d{4}\s+0\.\d{4} ✓\s+gpt-4o`},
		{"Explain me Gödel`s incompleteness theorem.", `\d\.\d{4}\s+0\.\d{4} ✓\s+gpt-4o`},
		{"What is Wulfila Bible?", `\d\.\d{4}\s+\d\.\d{4}\s+mistral-tiny`},
		{"Who was Edward Gibbon and what he is famous for?", `\d\.\d{4}\s+\d\.\d{4}\s+mistral-tiny`},
	} {
		assert.Regexp(t, regexp.QuoteMeta(row.prompt)+`\s+`+row.served+"\n", got)
	}
}

// The demo's Kong file is seed 000's, unchanged: only the servers change, in Go.
func TestSeedFileUnchanged(t *testing.T) {
	demo, err := os.ReadFile("seed000.yaml")
	require.NoError(t, err)
	seed, err := os.ReadFile("../../kong/testdata/seed000-deck.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(seed), string(demo))
}
