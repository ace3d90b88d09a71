// Package anthropic translates Anthropic's Messages API (POST /v1/messages), as clients such
// as coding agents speak it, to and from OpenAI chat completions, so that any chat target can
// serve an Anthropic-format client: its request becomes a chat-completions request
// (ParseRequest), the chat completion an Anthropic message (Request.Response), the chat
// stream Anthropic's server-sent events (Request.NewStream), and OpenAI-format errors
// Anthropic's error bodies (Error).
//
// This is the opposite direction of package provider/anthropic, which serves OpenAI-format
// clients from Anthropic's API.
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input (ids are derived from the chat completion's), so it may run again on every retry.
// Server tools (web search, code execution, bash, text editor, computer use), MCP servers,
// containers, uploaded files (file sources) and URL documents have no chat equivalent:
// ParseRequest refuses them with a *format.UnsupportedError naming the field. README.md lists
// what each direction keeps and drops.
package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// api names the translator in its errors.
const api = "anthropic"

// Request is a parsed Messages API request and the chat request that serves it. It is
// immutable and may serve any number of attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Model is the request's model.
	Model string
	// Stream reports whether the client asked for an event stream. Chat then asks for a
	// stream with stream_options.include_usage, whose usage message_delta reports.
	Stream bool
	// TopK is the request's top_k. It is not in Chat, since OpenAI's API and most
	// OpenAI-compatible ones refuse it: a proxy adds it for targets whose API takes one.
	TopK *int
}

type wireRequest struct {
	Model             string          `json:"model"`
	MaxTokens         *int            `json:"max_tokens"`
	System            json.RawMessage `json:"system"`
	Messages          []wireMessage   `json:"messages"`
	Metadata          *wireMetadata   `json:"metadata"`
	StopSequences     []string        `json:"stop_sequences"`
	Stream            bool            `json:"stream"`
	Temperature       *float64        `json:"temperature"`
	TopK              *int            `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	Tools             []wireTool      `json:"tools"`
	ToolChoice        *wireToolChoice `json:"tool_choice"`
	Thinking          *wireThinking   `json:"thinking"`
	Container         json.RawMessage `json:"container"`
	MCPServers        json.RawMessage `json:"mcp_servers"`
	ContextManagement json.RawMessage `json:"context_management"`
}

type wireMetadata struct {
	UserID string `json:"user_id"`
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Source    *wireSource     `json:"source"`
	Title     string          `json:"title"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

type wireSource struct {
	Type      string          `json:"type"` // base64, url, text, content, file
	MediaType string          `json:"media_type"`
	Data      string          `json:"data"`
	URL       string          `json:"url"`
	Content   json.RawMessage `json:"content"`
}

type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type wireToolChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

type wireThinking struct {
	Type         string `json:"type"` // enabled, disabled
	BudgetTokens int    `json:"budget_tokens"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

// ParseRequest translates a Messages API request body. It returns a
// *format.InvalidRequestError for a body that is not a valid request, and a
// *format.UnsupportedError for a field the translation cannot express.
func ParseRequest(body []byte) (*Request, error) {
	var in wireRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "the body is not a valid Messages API request: "+err.Error())
	}
	switch {
	case in.Model == "":
		return nil, invalid("model", "model is required")
	case in.MaxTokens == nil:
		return nil, invalid("max_tokens", "max_tokens is required")
	case len(in.Messages) == 0:
		return nil, invalid("messages", "messages is required")
	case !chat.IsNull(in.Container):
		return nil, unsupported("container", "containers run only on Anthropic")
	case !chat.IsNull(in.MCPServers) && string(bytes.TrimSpace(in.MCPServers)) != "[]":
		return nil, unsupported("mcp_servers", "Anthropic's MCP connector runs only on Anthropic")
	case !chat.IsNull(in.ContextManagement):
		return nil, unsupported("context_management", "context management runs only on Anthropic")
	}
	out := chat.Request{
		Model:               in.Model,
		MaxCompletionTokens: in.MaxTokens,
		Temperature:         in.Temperature,
		TopP:                in.TopP,
		Stop:                in.StopSequences,
		Stream:              in.Stream,
	}
	if in.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if in.Metadata != nil {
		out.User = in.Metadata.UserID
	}
	if t := in.Thinking; t != nil && t.Type == "enabled" {
		out.ReasoningEffort = chat.Effort(t.BudgetTokens)
	}
	sys, err := system(in.System)
	if err != nil {
		return nil, err
	}
	if sys != "" {
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: chat.Text(sys)})
	}
	for i, m := range in.Messages {
		if out.Messages, err = messages(out.Messages, format.Index("messages", i), m); err != nil {
			return nil, err
		}
	}
	for i, t := range in.Tools {
		field := format.Index("tools", i)
		if t.Type != "" && t.Type != "custom" {
			return nil, unsupported(field+".type", "tools of type "+t.Type+" are run by Anthropic (custom tools are translated)")
		}
		if t.Name == "" {
			return nil, invalid(field+".name", "a tool needs a name")
		}
		schema := t.InputSchema
		if chat.IsNull(schema) {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, provider.Tool{Type: "function",
			Function: provider.FunctionDecl{Name: t.Name, Description: t.Description, Parameters: schema}})
	}
	if c := in.ToolChoice; c != nil {
		switch c.Type {
		case "auto", "none":
			out.ToolChoice, _ = json.Marshal(c.Type)
		case "any":
			out.ToolChoice = json.RawMessage(`"required"`)
		case "tool":
			if c.Name == "" {
				return nil, invalid("tool_choice.name", "a tool tool_choice needs a name")
			}
			out.ToolChoice, _ = json.Marshal(chat.FunctionChoice(c.Name))
		default:
			return nil, invalid("tool_choice.type", "tool_choice.type must be auto, any, tool or none")
		}
		if c.DisableParallelToolUse && len(out.Tools) > 0 {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	chatBody, err := json.Marshal(out)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	return &Request{Chat: chatBody, Model: in.Model, Stream: in.Stream, TopK: in.TopK}, nil
}

// system returns the system prompt: a string, or the text of its blocks joined by newlines.
func system(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", invalid("system", err.Error())
		}
		return s, nil
	}
	var blocks []wireBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", invalid("system", "system must be a string or an array of text blocks")
	}
	texts := make([]string, 0, len(blocks))
	for i, b := range blocks {
		if b.Type != "text" {
			return "", invalid(format.Index("system", i)+".type", "system blocks must be text")
		}
		texts = append(texts, b.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// blocks decodes a message's content: a string is one text block.
func blocks(field string, raw json.RawMessage) ([]wireBlock, error) {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return nil, invalid(field, "content is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(field, err.Error())
		}
		return []wireBlock{{Type: "text", Text: s}}, nil
	}
	var bs []wireBlock
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, invalid(field, "content must be a string or an array of content blocks")
	}
	return bs, nil
}

// messages appends the chat messages of one Anthropic message to msgs. A user message's
// tool_result blocks become tool messages, ahead of a user message with the rest of its
// content (Anthropic puts tool results first in a turn); an assistant message's tool_use
// blocks become its tool_calls.
func messages(msgs []chat.Message, field string, m wireMessage) ([]chat.Message, error) {
	bs, err := blocks(field+".content", m.Content)
	if err != nil {
		return nil, err
	}
	switch m.Role {
	case "user":
		var parts []chat.Part
		for j, b := range bs {
			bf := format.Index(field+".content", j)
			if b.Type == "tool_result" {
				content, images, err := toolResult(bf, b)
				if err != nil {
					return nil, err
				}
				msgs = append(msgs, chat.Message{Role: "tool", ToolCallID: b.ToolUseID, Content: content})
				parts = append(parts, images...)
				continue
			}
			p, err := userPart(bf, b)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p...)
		}
		if len(parts) > 0 {
			if len(parts) == 1 && parts[0].Type == "text" && bytes.TrimSpace(m.Content)[0] == '"' {
				return append(msgs, chat.Message{Role: "user", Content: chat.Text(*parts[0].Text)}), nil
			}
			msgs = append(msgs, chat.Message{Role: "user", Content: &chat.Content{Parts: parts}})
		}
		return msgs, nil
	case "assistant":
		var a chat.Assistant
		for j, b := range bs {
			bf := format.Index(field+".content", j)
			switch b.Type {
			case "text":
				a.AddText(b.Text)
			case "tool_use":
				if b.ID == "" || b.Name == "" {
					return nil, invalid(bf, "a tool_use block needs id and name")
				}
				a.AddCall(b.ID, b.Name, chat.InputArguments(b.Input))
			case "thinking", "redacted_thinking":
				// Signed by Anthropic for Anthropic's models: no other model reads them.
			default:
				return nil, unsupported(bf+".type", "assistant blocks of type "+b.Type+" come from tools that run only on Anthropic")
			}
		}
		return append(msgs, a.Message()), nil
	}
	return nil, invalid(field+".role", "role must be user or assistant")
}

// userPart translates a block of a user message.
func userPart(field string, b wireBlock) ([]chat.Part, error) {
	switch b.Type {
	case "text":
		return []chat.Part{chat.TextPart(b.Text)}, nil
	case "image":
		src := b.Source
		if src == nil {
			return nil, invalid(field+".source", "an image block needs a source")
		}
		switch src.Type {
		case "base64":
			return []chat.Part{{Type: "image_url", ImageURL: &provider.ImageURL{URL: "data:" + src.MediaType + ";base64," + src.Data}}}, nil
		case "url":
			return []chat.Part{{Type: "image_url", ImageURL: &provider.ImageURL{URL: src.URL}}}, nil
		case "file":
			return nil, unsupported(field+".source", "uploaded files are kept only by Anthropic")
		}
		return nil, invalid(field+".source.type", "an image source must be base64, url or file")
	case "document":
		src := b.Source
		if src == nil {
			return nil, invalid(field+".source", "a document block needs a source")
		}
		switch src.Type {
		case "base64":
			return []chat.Part{{Type: "file", File: &chat.File{FileData: "data:" + src.MediaType + ";base64," + src.Data, Filename: b.Title}}}, nil
		case "text":
			return []chat.Part{chat.TextPart(src.Data)}, nil
		case "content":
			inner, err := blocks(field+".source.content", src.Content)
			if err != nil {
				return nil, err
			}
			var parts []chat.Part
			for j, ib := range inner {
				p, err := userPart(format.Index(field+".source.content", j), ib)
				if err != nil {
					return nil, err
				}
				parts = append(parts, p...)
			}
			return parts, nil
		case "url":
			return nil, unsupported(field+".source", "chat completions take a document's data, not its URL")
		case "file":
			return nil, unsupported(field+".source", "uploaded files are kept only by Anthropic")
		}
		return nil, invalid(field+".source.type", "a document source must be base64, text, content, url or file")
	}
	return nil, unsupported(field+".type", "user blocks of type "+b.Type+" have no chat equivalent")
}

// toolResult translates a tool_result block: its text becomes the tool message's content,
// its images are returned to follow in a user message (chat tool messages carry text only).
// is_error has no chat equivalent.
func toolResult(field string, b wireBlock) (*chat.Content, []chat.Part, error) {
	if b.ToolUseID == "" {
		return nil, nil, invalid(field+".tool_use_id", "a tool_result block needs tool_use_id")
	}
	if chat.IsNull(b.Content) {
		return chat.Text(""), nil, nil
	}
	bs, err := blocks(field+".content", b.Content)
	if err != nil {
		return nil, nil, err
	}
	var text strings.Builder
	var images []chat.Part
	for j, ib := range bs {
		switch ib.Type {
		case "text":
			if text.Len() > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(ib.Text)
		case "image", "document":
			p, err := userPart(format.Index(field+".content", j), ib)
			if err != nil {
				return nil, nil, err
			}
			images = append(images, p...)
		default:
			return nil, nil, unsupported(format.Index(field+".content", j)+".type", "tool result blocks of type "+ib.Type+" have no chat equivalent")
		}
	}
	return chat.Text(text.String()), images, nil
}
