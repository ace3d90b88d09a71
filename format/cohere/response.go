package cohere

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// finishReason maps a chat finish_reason onto Cohere's: length → MAX_TOKENS, tool_calls →
// TOOL_CALL, anything else (stop, content_filter) → COMPLETE (chat does not say whether a
// stop sequence ended the text, and Cohere's ERROR means a failed generation).
func finishReason(finish string) string {
	switch finish {
	case "length":
		return "MAX_TOKENS"
	case "tool_calls", "function_call":
		return "TOOL_CALL"
	}
	return "COMPLETE"
}

// appendUsage appends Cohere's usage: billed_units and tokens (the same counts: chat has
// no other), and cached_tokens.
func appendUsage(dst []byte, u *chat.Usage) []byte {
	dst = appendCounts(append(dst, `{"billed_units":`...), u)
	dst = appendCounts(append(dst, `,"tokens":`...), u)
	dst = append(dst, `,"cached_tokens":`...)
	dst = chat.AppendInt(dst, max(u.PromptTokensDetails.CachedTokens, 0))
	return append(dst, '}')
}

func appendCounts(dst []byte, u *chat.Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = chat.AppendInt(dst, u.PromptTokens)
	dst = append(dst, `,"output_tokens":`...)
	dst = chat.AppendInt(dst, u.CompletionTokens)
	return append(dst, '}')
}

// appendCall appends a tool call: {"id","type":"function","function":{"name","arguments"}}.
func appendCall(dst []byte, id, name, args string) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, `,"type":"function","function":{"name":`...)
	dst = jsonx.AppendString(dst, name)
	dst = append(dst, `,"arguments":`...)
	dst = jsonx.AppendString(dst, args)
	return append(dst, "}}"...)
}

// Response translates a chat.completion body into a Cohere chat response: choice 0's
// reasoning as a thinking part and its content (or refusal) as a text part; with tool calls,
// the text is the tool_plan, as Cohere gives it, and the calls are tool_calls; the finish
// reason and usage. A body that is not a chat completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, ch, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	id := chat.CompletionID(c.ID, c.Model, c.Created)
	m := ch.Message
	text := ""
	if m.Content != nil {
		text = *m.Content
	}
	if m.Refusal != nil && *m.Refusal != "" {
		text = *m.Refusal
	}
	dst := make([]byte, 0, 256+len(chatBody))
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, `,"finish_reason":"`...)
	dst = append(dst, finishReason(ch.FinishReason)...)
	dst = append(dst, `","message":{"role":"assistant","content":[`...)
	n := 0
	if m.ReasoningContent != nil && *m.ReasoningContent != "" {
		dst = append(dst, `{"type":"thinking","thinking":`...)
		dst = jsonx.AppendString(dst, *m.ReasoningContent)
		dst = append(dst, '}')
		n++
	}
	if len(m.ToolCalls) == 0 {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":"text","text":`...)
		dst = jsonx.AppendString(dst, text)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if len(m.ToolCalls) > 0 {
		dst = append(dst, `,"tool_plan":`...)
		dst = jsonx.AppendString(dst, text)
		dst = append(dst, `,"tool_calls":[`...)
		for i, tc := range m.ToolCalls {
			if i > 0 {
				dst = append(dst, ',')
			}
			callID := tc.ID
			if callID == "" {
				callID = chat.ID("call_", id, strconv.Itoa(i))
			}
			args := tc.Function.Arguments
			if args == "" {
				args = "{}"
			}
			dst = appendCall(dst, callID, tc.Function.Name, args)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"usage":`...)
	dst = appendUsage(dst, &c.Usage)
	return append(dst, '}'), nil
}
