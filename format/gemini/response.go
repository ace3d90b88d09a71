package gemini

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// finishReason maps a chat finish_reason onto Gemini's: length → MAX_TOKENS, content_filter
// → SAFETY, anything else (stop, tool_calls) → STOP.
func finishReason(finish string) string {
	switch finish {
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	}
	return "STOP"
}

// appendUsage appends Gemini's usageMetadata: promptTokenCount (cached tokens included, as
// cachedContentTokenCount says), candidatesTokenCount (without reasoning, which
// thoughtsTokenCount counts) and totalTokenCount.
func appendUsage(dst []byte, u *chat.Usage) []byte {
	thoughts := min(max(u.CompletionTokensDetails.ReasoningTokens, 0), u.CompletionTokens)
	dst = append(dst, `{"promptTokenCount":`...)
	dst = chat.AppendInt(dst, u.PromptTokens)
	dst = append(dst, `,"candidatesTokenCount":`...)
	dst = chat.AppendInt(dst, u.CompletionTokens-thoughts)
	dst = append(dst, `,"totalTokenCount":`...)
	dst = chat.AppendInt(dst, u.Total())
	if c := u.PromptTokensDetails.CachedTokens; c > 0 {
		dst = append(dst, `,"cachedContentTokenCount":`...)
		dst = chat.AppendInt(dst, c)
	}
	if thoughts > 0 {
		dst = append(dst, `,"thoughtsTokenCount":`...)
		dst = chat.AppendInt(dst, thoughts)
	}
	return append(dst, '}')
}

// appendCall appends a functionCall part; arguments that are not a JSON object become {}.
func appendCall(dst []byte, id, name, args string) []byte {
	obj, ok := chat.Compact(args)
	if !ok {
		obj = []byte("{}")
	}
	dst = append(dst, `{"functionCall":{"id":`...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, `,"name":`...)
	dst = jsonx.AppendString(dst, name)
	dst = append(dst, `,"args":`...)
	dst = append(dst, obj...)
	return append(dst, "}}"...)
}

// Response translates a chat.completion body into a GenerateContentResponse: a candidate for
// each choice, its content (or refusal) as a text part, its tool calls as functionCall parts
// (with the call's id, which a functionResponse may echo), its finish reason; the usage, the
// model as modelVersion and the completion's id as responseId. Reasoning text becomes a
// thought part when the request asked for thoughts (thinkingConfig.includeThoughts). A body
// that is not a chat completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, _, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	model := c.Model
	if model == "" {
		model = r.Model
	}
	id := chat.CompletionID(c.ID, model, c.Created)
	dst := make([]byte, 0, 256+len(chatBody))
	dst = append(dst, `{"candidates":[`...)
	for i := range c.Choices {
		ch := &c.Choices[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"content":{"parts":[`...)
		m := ch.Message
		n := 0
		if r.thoughts && m.ReasoningContent != nil && *m.ReasoningContent != "" {
			dst = append(dst, `{"text":`...)
			dst = jsonx.AppendString(dst, *m.ReasoningContent)
			dst = append(dst, `,"thought":true}`...)
			n++
		}
		text := m.Content
		if m.Refusal != nil && *m.Refusal != "" {
			text = m.Refusal
		}
		if (text != nil && *text != "") || (n == 0 && len(m.ToolCalls) == 0) {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"text":`...)
			if text != nil {
				dst = jsonx.AppendString(dst, *text)
			} else {
				dst = append(dst, `""`...)
			}
			dst = append(dst, '}')
			n++
		}
		for j, tc := range m.ToolCalls {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			callID := tc.ID
			if callID == "" {
				callID = chat.ID("call_", id, strconv.Itoa(ch.Index), strconv.Itoa(j))
			}
			dst = appendCall(dst, callID, tc.Function.Name, tc.Function.Arguments)
		}
		dst = append(dst, `],"role":"model"},"finishReason":"`...)
		dst = append(dst, finishReason(ch.FinishReason)...)
		dst = append(dst, `","index":`...)
		dst = chat.AppendInt(dst, ch.Index)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"usageMetadata":`...)
	dst = appendUsage(dst, &c.Usage)
	dst = append(dst, `,"modelVersion":`...)
	dst = jsonx.AppendString(dst, model)
	dst = append(dst, `,"responseId":`...)
	dst = jsonx.AppendString(dst, id)
	return append(dst, '}'), nil
}
