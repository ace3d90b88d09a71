package chunk

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aiproxy/aiproxy/provider"
)

func TestWriter(t *testing.T) {
	w := NewWriter("id\"1", "m", 5)
	var q Queue
	q.Push(w.Role(q.Buf()))
	q.Push(w.Text(q.Buf(), "a\n\"b\""))
	q.Push(w.ToolStart(q.Buf(), 0, "call_1", "f", nil, []byte(`{"google":{"thought_signature":"c2ln"}}`)))
	q.Push(w.ToolArgsRaw(q.Buf(), 0, []byte(`"{\"x\":1}"`)))
	q.Push(w.Finish(q.Buf(), "tool_calls"))
	q.Push(w.Usage(q.Buf(), provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}))
	var got []provider.ChatChunk
	for c := q.Pop(); c != nil; c = q.Pop() {
		var ch provider.ChatChunk
		assert.NoError(t, json.Unmarshal(c, &ch), "%s", c)
		got = append(got, ch)
	}
	assert.Len(t, got, 6)
	assert.Equal(t, "id\"1", got[0].ID)
	assert.Equal(t, "assistant", got[0].Choices[0].Delta.Role)
	assert.Equal(t, "a\n\"b\"", *got[1].Choices[0].Delta.Content)
	assert.Equal(t, "f", got[2].Choices[0].Delta.ToolCalls[0].Function.Name)
	assert.Equal(t, "c2ln", got[2].Choices[0].Delta.ToolCalls[0].ExtraContent.Google.ThoughtSignature)
	assert.Equal(t, `{"x":1}`, got[3].Choices[0].Delta.ToolCalls[0].Function.Arguments)
	assert.Equal(t, "tool_calls", *got[4].Choices[0].FinishReason)
	assert.Equal(t, 3, got[5].Usage.TotalTokens)
	assert.Empty(t, got[5].Choices)
	q.Reset()
	assert.Nil(t, q.Pop())
}

func TestIncludeUsage(t *testing.T) {
	assert.True(t, IncludeUsage([]byte(`{"stream":true,"stream_options":{"include_usage":true}}`)))
	assert.False(t, IncludeUsage([]byte(`{"stream":true,"stream_options":{"include_usage":false}}`)))
	assert.False(t, IncludeUsage([]byte(`{"stream":true}`)))
	assert.False(t, IncludeUsage([]byte(`not json`)))
}
