package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's first command must keep showing what it promises: aliases, failover,
// streaming and the unknown-model error.
func TestQuickstart(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	got := out.String()
	for _, want := range []string{
		`answer: "Hello from gpt-4o-mini on upstream B"`,
		"attempt on openai/gpt-4o#0 failed: HTTP 503",
		`answer: "Hello from gpt-4o on upstream B"`,
		"served by target openai/gpt-4o#1 after 2 attempt(s)",
		`"Hello " "from " "gpt-4o " "on " "upstream " "A" [DONE]`,
		"tokens: 7 prompt + 8 completion = 15",
		`HTTP 400, X-Kong-LLM-Model: ""`,
		`error: the model "slow" is not served here`,
	} {
		assert.Contains(t, got, want)
	}
}
