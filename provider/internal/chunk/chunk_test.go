package chunk

import (
	"encoding/json"
	"errors"
	"io"
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

// steps is a Translator whose events are the chunks to push, and an error to end with.
type steps struct {
	l      *Loop
	events [][]string
	err    error
	done   bool // Done at the last event
}

func (s *steps) Step() error {
	if len(s.events) == 0 {
		return s.err
	}
	for _, c := range s.events[0] {
		s.l.Push(append(s.l.Buf(), c...))
	}
	s.events = s.events[1:]
	if s.done && len(s.events) == 0 {
		s.l.Done()
	}
	return nil
}

func drain(l *Loop, t Translator) ([]string, error) {
	var out []string
	for {
		c, err := l.Next(t, "x: cut")
		if err != nil {
			return out, err
		}
		out = append(out, string(c))
	}
}

func TestLoop(t *testing.T) {
	var l Loop
	out, err := drain(&l, &steps{l: &l, events: [][]string{{"a", "b"}, nil, {"c"}}, done: true})
	assert.Equal(t, []string{"a", "b", "c"}, out)
	assert.Equal(t, io.EOF, err)

	l = Loop{}
	out, err = drain(&l, &steps{l: &l, events: [][]string{{"a"}}, err: io.EOF})
	assert.Equal(t, []string{"a"}, out)
	var pe *provider.Error
	if assert.ErrorAs(t, err, &pe) {
		assert.Equal(t, 502, pe.Status)
		assert.Equal(t, "x: cut", pe.Message)
	}
	_, err = l.Next(&steps{l: &l}, "x: cut")
	assert.Equal(t, io.EOF, err, "an error ends the stream")

	l = Loop{}
	boom := errors.New("boom")
	_, err = drain(&l, &steps{l: &l, err: boom})
	assert.Equal(t, boom, err)
}
