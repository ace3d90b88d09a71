package provider

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsageJSON(t *testing.T) {
	var u Usage
	require.NoError(t, json.Unmarshal([]byte(`{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`), &u))
	assert.Equal(t, Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29, CachedTokens: 3}, u)
	b, err := json.Marshal(u)
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":3}}`, string(b))
	b, _ = json.Marshal(Usage{PromptTokens: 1, TotalTokens: 1})
	assert.JSONEq(t, `{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}`, string(b))

	for _, bad := range []string{`{"prompt_tokens":-1}`, `{"total_tokens":"3"}`, `{"total_tokens":1.5}`, `[]`, `{"prompt_tokens_details":{"cached_tokens":true}}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &u), bad)
	}
	// DeepSeek reports cache hits as prompt_cache_hit_tokens.
	require.NoError(t, json.Unmarshal([]byte(`{"prompt_tokens":16,"completion_tokens":11,"total_tokens":27,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":8}`), &u))
	assert.Equal(t, Usage{PromptTokens: 16, CompletionTokens: 11, TotalTokens: 27, CachedTokens: 8}, u)
	raw := []byte(`{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}`)
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = u.UnmarshalJSON(raw) }), 1.0, "one closure at most")
}
