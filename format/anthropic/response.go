package anthropic

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// StopReason maps a chat finish_reason onto Anthropic's stop_reason: length → max_tokens,
// tool_calls → tool_use, content_filter → refusal, anything else → end_turn (chat does not
// say whether a stop sequence ended the text).
func StopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// messageID returns the id of the message that a chat completion becomes: its own id if it
// is an Anthropic message id already, else msg_ and a digest of it.
func messageID(chatID, model string, created int64) string {
	if strings.HasPrefix(chatID, "msg_") {
		return chatID
	}
	return chat.ID("msg_", chatID, model, strconv.FormatInt(created, 10))
}

// appendUsage appends Anthropic's usage members: input_tokens (without cache reads, which
// Anthropic counts apart), cache_read_input_tokens and output_tokens.
func appendUsage(dst []byte, u *chat.Usage) []byte {
	cached := min(max(u.PromptTokensDetails.CachedTokens, 0), u.PromptTokens)
	dst = append(dst, `{"input_tokens":`...)
	dst = chat.AppendInt(dst, u.PromptTokens-cached)
	dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = chat.AppendInt(dst, cached)
	dst = append(dst, `,"output_tokens":`...)
	dst = chat.AppendInt(dst, u.CompletionTokens)
	return append(dst, '}')
}

// Response translates a chat.completion body into an Anthropic message: choice 0's content
// (or refusal) as a text block, its tool calls as tool_use blocks (arguments that are not a
// JSON object become {}), the stop reason and usage. Reasoning text is not returned (Anthropic
// thinking blocks carry a signature that only Anthropic can make). A body that is not a chat
// completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, ch, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	id := messageID(c.ID, c.Model, c.Created)
	dst := make([]byte, 0, 256+len(chatBody))
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = jsonx.AppendString(dst, c.Model)
	dst = append(dst, `,"content":[`...)
	m := ch.Message
	n := 0
	text := m.Content
	if m.Refusal != nil && *m.Refusal != "" {
		text = m.Refusal
	}
	if text != nil && (*text != "" || len(m.ToolCalls) == 0) {
		dst = append(dst, `{"type":"text","text":`...)
		dst = jsonx.AppendString(dst, *text)
		dst = append(dst, '}')
		n++
	}
	for i, tc := range m.ToolCalls {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		callID := tc.ID
		if callID == "" {
			callID = chat.ID("toolu_", id, strconv.Itoa(i))
		}
		input, ok := chat.Compact(tc.Function.Arguments)
		if !ok {
			input = []byte("{}")
		}
		dst = append(dst, `{"type":"tool_use","id":`...)
		dst = jsonx.AppendString(dst, callID)
		dst = append(dst, `,"name":`...)
		dst = jsonx.AppendString(dst, tc.Function.Name)
		dst = append(dst, `,"input":`...)
		dst = append(dst, input...)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"stop_reason":"`...)
	dst = append(dst, StopReason(ch.FinishReason)...)
	dst = append(dst, `","stop_sequence":null,"usage":`...)
	dst = appendUsage(dst, &c.Usage)
	return append(dst, '}'), nil
}

// ErrorType returns Anthropic's error type for an HTTP status.
func ErrorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusPaymentRequired:
		return "billing_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusServiceUnavailable || status == 529:
		return "overloaded_error"
	case status == http.StatusGatewayTimeout:
		return "timeout_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

// Error translates an OpenAI-format error body ({"error":{"message","type","code"}}) with
// its HTTP status into Anthropic's: {"type":"error","error":{"type":...,"message":...}}, the
// type chosen by status (ErrorType). A body without a message gets the status text.
func Error(status int, body []byte) []byte {
	return appendError(nil, status, body)
}

func appendError(dst []byte, status int, body []byte) []byte {
	msg := chat.ErrorMessage(status, body)
	dst = append(dst, `{"type":"error","error":{"type":"`...)
	dst = append(dst, ErrorType(status)...)
	dst = append(dst, `","message":`...)
	dst = jsonx.AppendString(dst, msg)
	return append(dst, "}}"...)
}
