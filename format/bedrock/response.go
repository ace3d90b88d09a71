package bedrock

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// StopReason maps a chat finish_reason onto Converse's stopReason: length → max_tokens,
// tool_calls → tool_use, content_filter → content_filtered, anything else → end_turn (chat
// does not say whether a stop sequence ended the text).
func StopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "content_filtered"
	}
	return "end_turn"
}

// appendUsage appends Converse's usage object: inputTokens (without cache reads, which
// Bedrock counts apart), outputTokens, totalTokens, and cacheReadInputTokens when there were
// any.
func appendUsage(dst []byte, u *chat.Usage) []byte {
	cached := min(max(u.PromptTokensDetails.CachedTokens, 0), u.PromptTokens)
	dst = append(dst, `{"inputTokens":`...)
	dst = chat.AppendInt(dst, u.PromptTokens-cached)
	dst = append(dst, `,"outputTokens":`...)
	dst = chat.AppendInt(dst, u.CompletionTokens)
	dst = append(dst, `,"totalTokens":`...)
	dst = chat.AppendInt(dst, u.Total())
	if cached > 0 {
		dst = append(dst, `,"cacheReadInputTokens":`...)
		dst = chat.AppendInt(dst, cached)
	}
	return append(dst, '}')
}

// toolUseID returns the id of a tool call that came without one, derived from the
// completion's id and the call's position.
func toolUseID(chatID string, i int) string {
	return chat.ID("tooluse_", chatID, strconv.Itoa(i))
}

// Response translates a chat.completion body into a Converse response: choice 0's reasoning
// text as a reasoningContent block, its content (or refusal) as a text block, its tool calls
// as toolUse blocks (arguments that are not a JSON object become {}), the stop reason and
// usage. metrics.latencyMs is 0: a pure translation has no clock. A body that is not a chat
// completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, ch, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	m := ch.Message
	dst := make([]byte, 0, 256+len(chatBody))
	dst = append(dst, `{"output":{"message":{"role":"assistant","content":[`...)
	n := 0
	if m.ReasoningContent != nil && *m.ReasoningContent != "" {
		dst = append(dst, `{"reasoningContent":{"reasoningText":{"text":`...)
		dst = jsonx.AppendString(dst, *m.ReasoningContent)
		dst = append(dst, `}}}`...)
		n++
	}
	text := ""
	switch {
	case m.Refusal != nil && *m.Refusal != "":
		text = *m.Refusal
	case m.Content != nil:
		text = *m.Content
	}
	if text != "" || n == 0 && len(m.ToolCalls) == 0 { // Converse's content is never empty
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"text":`...)
		dst = jsonx.AppendString(dst, text)
		dst = append(dst, '}')
		n++
	}
	for i, tc := range m.ToolCalls {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		id := tc.ID
		if id == "" {
			id = toolUseID(c.ID, i)
		}
		input, ok := chat.Compact(tc.Function.Arguments)
		if !ok {
			input = []byte("{}")
		}
		dst = append(dst, `{"toolUse":{"toolUseId":`...)
		dst = jsonx.AppendString(dst, id)
		dst = append(dst, `,"name":`...)
		dst = jsonx.AppendString(dst, tc.Function.Name)
		dst = append(dst, `,"input":`...)
		dst = append(dst, input...)
		dst = append(dst, "}}"...)
	}
	dst = append(dst, `]}},"stopReason":"`...)
	dst = append(dst, StopReason(ch.FinishReason)...)
	dst = append(dst, `","usage":`...)
	dst = appendUsage(dst, &c.Usage)
	return append(dst, `,"metrics":{"latencyMs":0}}`...), nil
}
