package chat

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// Assistant gathers the chat message of a client's assistant turn: its text and its tool
// calls, as the turn's blocks or parts give them one by one.
type Assistant struct {
	text    strings.Builder
	hasText bool
	Calls   []provider.ToolCall
}

// AddText adds a text block (which may be empty: the message then has content "").
func (a *Assistant) AddText(s string) {
	a.text.WriteString(s)
	a.hasText = true
}

// HasText reports whether the turn had a text block.
func (a *Assistant) HasText() bool { return a.hasText }

// AddCall adds a function tool call.
func (a *Assistant) AddCall(id, name, args string) {
	a.Calls = append(a.Calls, provider.ToolCall{ID: id, Type: "function",
		Function: provider.FunctionCall{Name: name, Arguments: args}})
}

// Message returns the assistant message: its text as content, or null content when the
// turn had tool calls and no text.
func (a *Assistant) Message() Message {
	msg := Message{Role: "assistant", ToolCalls: a.Calls}
	if a.hasText || len(a.Calls) == 0 {
		msg.Content = Text(a.text.String())
	}
	return msg
}

// AppendUser appends a user message of parts: string content for a single text part, else
// the parts; nothing for no parts.
func AppendUser(msgs []Message, parts []Part) []Message {
	switch {
	case len(parts) == 1 && parts[0].Type == "text":
		return append(msgs, Message{Role: "user", Content: Text(*parts[0].Text)})
	case len(parts) > 0:
		return append(msgs, Message{Role: "user", Content: &Content{Parts: parts}})
	}
	return msgs
}

// InputArguments returns the arguments of a tool call whose input is a JSON value (an
// Anthropic tool_use's input, a Bedrock toolUse's): compacted; {} when it is absent, null
// or not valid JSON.
func InputArguments(input json.RawMessage) string {
	if IsNull(input) {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, input) != nil {
		return "{}"
	}
	return buf.String()
}
