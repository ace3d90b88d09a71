// Package responses translates OpenAI's Responses API (POST /v1/responses) to and from OpenAI
// chat completions, so that a Responses client can be served by any chat target: its request
// becomes a chat-completions request (ParseRequest), and the chat completion, or its stream,
// becomes a Response object (Request.Response) or the Responses streaming events
// (Request.NewStream).
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input (ids are derived from the chat completion's id), so it may run again on every retry.
//
// What only OpenAI's servers keep cannot be translated: previous_response_id, store: true,
// conversation, background, prompt templates, context_management, item_reference items,
// uploaded files (file_id) and built-in tools (web search, file search, code interpreter,
// computer use, image generation, MCP, shell, custom tools). ParseRequest refuses them with a
// *format.UnsupportedError naming the field; a proxy answers 400 or sends the request
// untranslated to an OpenAI or Azure target, which has them. README.md lists what each
// direction keeps and drops.
package responses

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// api names the translator in its errors.
const api = "responses"

// Request is a parsed Responses API request: the chat request that serves it, and what its
// responses repeat of it. It is immutable and may serve any number of attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Model is the request's model.
	Model string
	// Stream reports whether the client asked for an event stream ("stream": true). Chat then
	// asks for a stream with stream_options.include_usage, whose usage the final event reports.
	Stream bool

	// echo is the request's parameters as the response object repeats them: JSON members
	// without the enclosing braces, starting with a comma.
	echo []byte
}

type wireRequest struct {
	Model              string            `json:"model"`
	Instructions       *string           `json:"instructions"`
	Input              json.RawMessage   `json:"input"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Text               *textConfig       `json:"text"`
	Reasoning          *reasoningConfig  `json:"reasoning"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Metadata           json.RawMessage   `json:"metadata"`
	User               string            `json:"user"`
	SafetyIdentifier   string            `json:"safety_identifier"`
	Stream             bool              `json:"stream"`
	Store              *bool             `json:"store"`
	Background         *bool             `json:"background"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Conversation       json.RawMessage   `json:"conversation"`
	Prompt             json.RawMessage   `json:"prompt"`
	ContextManagement  json.RawMessage   `json:"context_management"`
}

type textConfig struct {
	Format json.RawMessage `json:"format"`
}

type reasoningConfig struct {
	Effort *string `json:"effort"`
}

type textFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

type wireItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

type wirePart struct {
	Type       string      `json:"type"`
	Text       string      `json:"text"`
	Refusal    string      `json:"refusal"`
	ImageURL   string      `json:"image_url"`
	Detail     string      `json:"detail"`
	FileID     string      `json:"file_id"`
	FileData   string      `json:"file_data"`
	FileURL    string      `json:"file_url"`
	Filename   string      `json:"filename"`
	InputAudio *chat.Audio `json:"input_audio"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

const onlyOpenAI = "the state it refers to is kept only by OpenAI"

// ParseRequest translates a Responses API request body. It returns a
// *format.InvalidRequestError for a body that is not a valid request, and a
// *format.UnsupportedError for a field the translation cannot express.
func ParseRequest(body []byte) (*Request, error) {
	var in wireRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "the body is not a valid Responses API request: "+err.Error())
	}
	switch {
	case in.PreviousResponseID != nil && *in.PreviousResponseID != "":
		return nil, unsupported("previous_response_id", onlyOpenAI+" (send the whole conversation in input instead)")
	case in.Store != nil && *in.Store:
		return nil, unsupported("store", "responses are stored only by OpenAI (send store: false)")
	case !chat.IsNull(in.Conversation):
		return nil, unsupported("conversation", onlyOpenAI)
	case in.Background != nil && *in.Background:
		return nil, unsupported("background", "background responses run only on OpenAI")
	case !chat.IsNull(in.Prompt):
		return nil, unsupported("prompt", "prompt templates are stored only by OpenAI")
	case !chat.IsNull(in.ContextManagement) && string(bytes.TrimSpace(in.ContextManagement)) != "[]":
		return nil, unsupported("context_management", "context compaction runs only on OpenAI")
	}
	if in.Model == "" {
		return nil, invalid("model", "model is required")
	}
	out := chat.Request{
		Model:               in.Model,
		MaxCompletionTokens: in.MaxOutputTokens,
		Temperature:         in.Temperature,
		TopP:                in.TopP,
		ParallelToolCalls:   in.ParallelToolCalls,
		User:                in.User,
		Stream:              in.Stream,
	}
	if out.User == "" {
		out.User = in.SafetyIdentifier
	}
	if in.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if !chat.IsNull(in.Metadata) {
		out.Metadata = in.Metadata
	}
	if in.Reasoning != nil && in.Reasoning.Effort != nil {
		out.ReasoningEffort = *in.Reasoning.Effort
	}
	if in.Instructions != nil && *in.Instructions != "" {
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: chat.Text(*in.Instructions)})
	}
	var err error
	if out.Messages, err = inputMessages(out.Messages, in.Input); err != nil {
		return nil, err
	}
	echoTools, err := tools(&out, in.Tools)
	if err != nil {
		return nil, err
	}
	if err := toolChoice(&out, in.ToolChoice); err != nil {
		return nil, err
	}
	if in.Text != nil {
		if out.ResponseFormat, err = responseFormat(in.Text.Format); err != nil {
			return nil, err
		}
	}
	chatBody, err := json.Marshal(out)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	echo, err := echoOf(&in, echoTools)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	return &Request{Chat: chatBody, Model: in.Model, Stream: in.Stream, echo: echo}, nil
}

// inputMessages appends the chat messages of input (a string or an array of items) to msgs.
func inputMessages(msgs []chat.Message, raw json.RawMessage) ([]chat.Message, error) {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return nil, invalid("input", "input is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid("input", err.Error())
		}
		return append(msgs, chat.Message{Role: "user", Content: chat.Text(s)}), nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid("input", "input must be a string or an array of items")
	}
	for i, itemRaw := range items {
		field := format.Index("input", i)
		var it wireItem
		if err := json.Unmarshal(itemRaw, &it); err != nil {
			return nil, invalid(field, err.Error())
		}
		typ := it.Type
		if typ == "" && it.Role != "" {
			typ = "message"
		}
		switch typ {
		case "message":
			m, err := message(field, &it)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		case "function_call":
			if it.CallID == "" || it.Name == "" {
				return nil, invalid(field, "a function_call item needs call_id and name")
			}
			tc := provider.ToolCall{ID: it.CallID, Type: "function",
				Function: provider.FunctionCall{Name: it.Name, Arguments: it.Arguments}}
			if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
				// Calls after an assistant message, or after other calls, belong to its turn.
				msgs[n-1].ToolCalls = append(msgs[n-1].ToolCalls, tc)
				continue
			}
			msgs = append(msgs, chat.Message{Role: "assistant", ToolCalls: []provider.ToolCall{tc}})
		case "function_call_output":
			if it.CallID == "" {
				return nil, invalid(field, "a function_call_output item needs call_id")
			}
			c, err := toolOutput(field+".output", it.Output)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, chat.Message{Role: "tool", ToolCallID: it.CallID, Content: c})
		case "reasoning":
			// Reasoning items carry OpenAI's encrypted reasoning, which no other model reads.
		case "item_reference":
			return nil, unsupported(field, "item references point at items that only OpenAI keeps")
		case "":
			return nil, invalid(field+".type", "an input item needs a type or a role")
		default:
			return nil, unsupported(field+".type", "items of type "+typ+" belong to tools that run only on OpenAI")
		}
	}
	return msgs, nil
}

// message translates a message item.
func message(field string, it *wireItem) (chat.Message, error) {
	var role string
	switch it.Role {
	case "user", "assistant":
		role = it.Role
	case "system", "developer":
		role = "system"
	default:
		return chat.Message{}, invalid(field+".role", "role must be user, assistant, system or developer")
	}
	raw := bytes.TrimSpace(it.Content)
	if chat.IsNull(raw) {
		return chat.Message{}, invalid(field+".content", "content is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return chat.Message{}, invalid(field+".content", err.Error())
		}
		return chat.Message{Role: role, Content: chat.Text(s)}, nil
	}
	var parts []wirePart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return chat.Message{}, invalid(field+".content", "content must be a string or an array of parts")
	}
	if role != "user" {
		// System and assistant messages take text only; chat gets it as a string.
		var b strings.Builder
		for j, p := range parts {
			switch p.Type {
			case "input_text", "output_text":
				b.WriteString(p.Text)
			case "refusal":
				b.WriteString(p.Refusal)
			default:
				return chat.Message{}, invalid(format.Index(field+".content", j)+".type", "a "+it.Role+" message takes text parts only")
			}
		}
		return chat.Message{Role: role, Content: chat.Text(b.String())}, nil
	}
	out := make([]chat.Part, 0, len(parts))
	for j, p := range parts {
		pf := format.Index(field+".content", j)
		switch p.Type {
		case "input_text", "output_text":
			out = append(out, chat.TextPart(p.Text))
		case "input_image":
			if p.FileID != "" {
				return chat.Message{}, unsupported(pf+".file_id", "uploaded files are kept only by OpenAI (send image_url, an https or data: URL)")
			}
			if p.ImageURL == "" {
				return chat.Message{}, invalid(pf+".image_url", "an input_image part needs image_url")
			}
			out = append(out, chat.Part{Type: "image_url", ImageURL: &provider.ImageURL{URL: p.ImageURL, Detail: p.Detail}})
		case "input_file":
			switch {
			case p.FileID != "":
				return chat.Message{}, unsupported(pf+".file_id", "uploaded files are kept only by OpenAI (send file_data)")
			case p.FileURL != "":
				return chat.Message{}, unsupported(pf+".file_url", "chat completions take a file's data, not its URL (send file_data)")
			case p.FileData == "":
				return chat.Message{}, invalid(pf+".file_data", "an input_file part needs file_data")
			}
			out = append(out, chat.Part{Type: "file", File: &chat.File{FileData: p.FileData, Filename: p.Filename}})
		case "input_audio":
			if p.InputAudio == nil {
				return chat.Message{}, invalid(pf+".input_audio", "an input_audio part needs input_audio")
			}
			out = append(out, chat.Part{Type: "input_audio", InputAudio: p.InputAudio})
		default:
			return chat.Message{}, unsupported(pf+".type", "content parts of type "+p.Type+" have no chat equivalent")
		}
	}
	return chat.Message{Role: role, Content: &chat.Content{Parts: out}}, nil
}

// toolOutput translates a function_call_output's output: a string, or text parts.
func toolOutput(field string, raw json.RawMessage) (*chat.Content, error) {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return nil, invalid(field, "output is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(field, err.Error())
		}
		return chat.Text(s), nil
	}
	var parts []wirePart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, invalid(field, "output must be a string or an array of parts")
	}
	out := make([]chat.Part, 0, len(parts))
	for j, p := range parts {
		if p.Type != "input_text" && p.Type != "output_text" {
			return nil, unsupported(format.Index(field, j)+".type", "chat tool results carry text only")
		}
		out = append(out, chat.TextPart(p.Text))
	}
	return &chat.Content{Parts: out}, nil
}

// tools sets out.Tools from the request's function tools and returns them as the response
// repeats them.
func tools(out *chat.Request, raws []json.RawMessage) ([]json.RawMessage, error) {
	for i, raw := range raws {
		field := format.Index("tools", i)
		var t wireTool
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, invalid(field, err.Error())
		}
		if t.Type != "function" {
			return nil, unsupported(field+".type", "tools of type "+t.Type+" run only on OpenAI (function tools are translated)")
		}
		if t.Name == "" {
			return nil, invalid(field+".name", "a function tool needs a name")
		}
		out.Tools = append(out.Tools, provider.Tool{Type: "function", Function: provider.FunctionDecl{
			Name: t.Name, Description: t.Description, Parameters: nullToNil(t.Parameters), Strict: t.Strict}})
	}
	return raws, nil
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if chat.IsNull(raw) {
		return nil
	}
	return raw
}

// toolChoice translates tool_choice: a mode, a function, or allowed_tools (which offers only
// the allowed functions, in the given mode).
func toolChoice(out *chat.Request, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto", "none", "required":
			out.ToolChoice = raw
			return nil
		}
		return invalid("tool_choice", "tool_choice must be auto, none, required or an object")
	}
	var c struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Mode  string `json:"mode"`
		Tools []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return invalid("tool_choice", err.Error())
	}
	switch c.Type {
	case "function":
		if c.Name == "" {
			return invalid("tool_choice.name", "a function tool_choice needs a name")
		}
		out.ToolChoice, _ = json.Marshal(chat.FunctionChoice(c.Name))
		return nil
	case "allowed_tools":
		if c.Mode != "auto" && c.Mode != "required" {
			return invalid("tool_choice.mode", "mode must be auto or required")
		}
		allowed := map[string]bool{}
		for i, t := range c.Tools {
			if t.Type != "function" {
				return unsupported(format.Index("tool_choice.tools", i)+".type", "tools of type "+t.Type+" run only on OpenAI")
			}
			allowed[t.Name] = true
		}
		kept := out.Tools[:0:0]
		for _, t := range out.Tools {
			if allowed[t.Function.Name] {
				kept = append(kept, t)
			}
		}
		out.Tools = kept
		out.ToolChoice, _ = json.Marshal(c.Mode)
		return nil
	}
	return unsupported("tool_choice.type", "tool_choice "+c.Type+" names a tool that runs only on OpenAI")
}

// responseFormat translates text.format into response_format; nil for plain text.
func responseFormat(raw json.RawMessage) (json.RawMessage, error) {
	if chat.IsNull(raw) {
		return nil, nil
	}
	var f textFormat
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, invalid("text.format", err.Error())
	}
	switch f.Type {
	case "text", "":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if f.Name == "" || chat.IsNull(f.Schema) {
			return nil, invalid("text.format", "a json_schema format needs name and schema")
		}
		type jsonSchema struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Schema      json.RawMessage `json:"schema"`
			Strict      *bool           `json:"strict,omitempty"`
		}
		return json.Marshal(struct {
			Type       string     `json:"type"`
			JSONSchema jsonSchema `json:"json_schema"`
		}{"json_schema", jsonSchema{f.Name, f.Description, f.Schema, f.Strict}})
	}
	return nil, invalid("text.format.type", "text.format.type must be text, json_object or json_schema")
}
