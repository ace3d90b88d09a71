// Package cohere translates Cohere's v2 Chat API (POST /v2/chat), as Cohere's SDKs and
// other Cohere clients speak it, to and from OpenAI chat completions, so that any chat target
// can serve a Cohere-format client: its request becomes a chat-completions request
// (ParseRequest), the chat completion a Cohere chat response (Request.Response), the chat
// stream Cohere's server-sent events (Request.NewStream), and OpenAI-format errors Cohere's
// error bodies (Error).
//
// This is the opposite direction of package provider/cohere, which serves OpenAI-format
// clients from Cohere's API.
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input (ids are derived from the chat completion's), so it may run again on every retry.
// Documents, which chat completions lack, are given to the model as text in a system
// message; citations are not produced, and citation_options and safety_mode are dropped.
// README.md lists what each direction keeps and drops.
package cohere

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// api names the translator in its errors.
const api = "cohere"

// Request is a parsed Cohere chat request and the chat request that serves it. It is
// immutable and may serve any number of attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Model is the request's model.
	Model string
	// Stream reports whether the client asked for an event stream. Chat then asks for a
	// stream with stream_options.include_usage, whose usage message-end reports.
	Stream bool
	// TopK is the request's k. It is not in Chat, since OpenAI's API and most
	// OpenAI-compatible ones refuse it: a proxy adds it for targets whose API takes one.
	TopK *int
}

type wireRequest struct {
	Model            string              `json:"model"`
	Messages         []wireMessage       `json:"messages"`
	Documents        []json.RawMessage   `json:"documents"`
	Tools            []wireTool          `json:"tools"`
	ToolChoice       string              `json:"tool_choice"`
	Stream           bool                `json:"stream"`
	MaxTokens        *int                `json:"max_tokens"`
	StopSequences    []string            `json:"stop_sequences"`
	Temperature      *float64            `json:"temperature"`
	P                *float64            `json:"p"`
	K                *int                `json:"k"`
	Seed             *int64              `json:"seed"`
	FrequencyPenalty *float64            `json:"frequency_penalty"`
	PresencePenalty  *float64            `json:"presence_penalty"`
	ResponseFormat   *wireResponseFormat `json:"response_format"`
	Thinking         *struct {
		Type        string `json:"type"`
		TokenBudget int    `json:"token_budget"`
	} `json:"thinking"`
}

type wireMessage struct {
	Role       string              `json:"role"`
	Content    json.RawMessage     `json:"content"`
	ToolPlan   string              `json:"tool_plan"`
	ToolCalls  []provider.ToolCall `json:"tool_calls"`
	ToolCallID string              `json:"tool_call_id"`
}

type wirePart struct {
	Type     string             `json:"type"`
	Text     string             `json:"text"`
	ImageURL *provider.ImageURL `json:"image_url"`
	Document *wireDocument      `json:"document"`
}

type wireDocument struct {
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireResponseFormat struct {
	Type       string          `json:"type"` // text, json_object
	JSONSchema json.RawMessage `json:"json_schema"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

// ParseRequest translates a v2 chat request body. It returns a *format.InvalidRequestError
// for a body that is not a valid request, and a *format.UnsupportedError for a field the
// translation cannot express.
func ParseRequest(body []byte) (*Request, error) {
	var in wireRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "the body is not a valid Cohere chat request: "+err.Error())
	}
	switch {
	case in.Model == "":
		return nil, invalid("model", "model is required")
	case len(in.Messages) == 0:
		return nil, invalid("messages", "messages is required")
	}
	out := chat.Request{
		Model:               in.Model,
		MaxCompletionTokens: in.MaxTokens,
		Temperature:         in.Temperature,
		TopP:                in.P,
		Stop:                in.StopSequences,
		Seed:                in.Seed,
		FrequencyPenalty:    in.FrequencyPenalty,
		PresencePenalty:     in.PresencePenalty,
		Stream:              in.Stream,
	}
	if in.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if t := in.Thinking; t != nil && strings.EqualFold(t.Type, "enabled") && t.TokenBudget > 0 {
		out.ReasoningEffort = chat.Effort(t.TokenBudget)
	}
	for i, m := range in.Messages {
		msg, err := message(format.Index("messages", i), m)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msg)
	}
	if len(in.Documents) > 0 {
		docs, err := documents(in.Documents)
		if err != nil {
			return nil, err
		}
		// After the client's own system messages, ahead of the conversation.
		i := 0
		for i < len(out.Messages) && out.Messages[i].Role == "system" {
			i++
		}
		out.Messages = append(out.Messages[:i], append([]chat.Message{{Role: "system", Content: chat.Text(docs)}}, out.Messages[i:]...)...)
	}
	for i, t := range in.Tools {
		field := format.Index("tools", i)
		if t.Type != "" && t.Type != "function" {
			return nil, unsupported(field+".type", "only function tools are translated")
		}
		if t.Function.Name == "" {
			return nil, invalid(field+".function.name", "a tool needs a name")
		}
		schema := t.Function.Parameters
		if chat.IsNull(schema) {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, provider.Tool{Type: "function",
			Function: provider.FunctionDecl{Name: t.Function.Name, Description: t.Function.Description, Parameters: schema}})
	}
	switch in.ToolChoice {
	case "", "AUTO":
	case "REQUIRED":
		out.ToolChoice = json.RawMessage(`"required"`)
	case "NONE":
		out.ToolChoice = json.RawMessage(`"none"`)
	default:
		return nil, invalid("tool_choice", "tool_choice must be REQUIRED or NONE")
	}
	if len(out.Tools) == 0 {
		out.ToolChoice = nil
	}
	if f := in.ResponseFormat; f != nil {
		switch f.Type {
		case "", "text":
		case "json_object":
			if chat.IsNull(f.JSONSchema) {
				out.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
				break
			}
			out.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "response", "schema": f.JSONSchema}})
		default:
			return nil, invalid("response_format.type", "response_format.type must be text or json_object")
		}
	}
	chatBody, err := json.Marshal(out)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	return &Request{Chat: chatBody, Model: in.Model, Stream: in.Stream, TopK: in.K}, nil
}

// parts decodes a message's content: a string is one text part.
func parts(field string, raw json.RawMessage) ([]wirePart, error) {
	raw = bytes.TrimSpace(raw)
	if chat.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(field, err.Error())
		}
		return []wirePart{{Type: "text", Text: s}}, nil
	}
	var ps []wirePart
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, invalid(field, "content must be a string or an array of content parts")
	}
	return ps, nil
}

// message translates one message.
func message(field string, m wireMessage) (chat.Message, error) {
	ps, err := parts(field+".content", m.Content)
	if err != nil {
		return chat.Message{}, err
	}
	switch m.Role {
	case "system", "user":
		if len(ps) == 0 {
			return chat.Message{}, invalid(field+".content", "content is required")
		}
		if bytes.TrimSpace(m.Content)[0] == '"' {
			return chat.Message{Role: m.Role, Content: chat.Text(ps[0].Text)}, nil
		}
		var cps []chat.Part
		for j, p := range ps {
			pf := format.Index(field+".content", j)
			switch {
			case p.Type == "text":
				cps = append(cps, chat.TextPart(p.Text))
			case p.Type == "image_url" && m.Role == "user":
				if p.ImageURL == nil || p.ImageURL.URL == "" {
					return chat.Message{}, invalid(pf+".image_url", "an image_url part needs a url")
				}
				cps = append(cps, chat.Part{Type: "image_url", ImageURL: p.ImageURL})
			case p.Type == "document":
				text, err := document(pf+".document", p.Document)
				if err != nil {
					return chat.Message{}, err
				}
				cps = append(cps, chat.TextPart(text))
			default:
				return chat.Message{}, invalid(pf+".type", m.Role+" content parts must be text, image_url or document")
			}
		}
		return chat.Message{Role: m.Role, Content: &chat.Content{Parts: cps}}, nil
	case "assistant":
		var a chat.Assistant
		for j, p := range ps {
			switch p.Type {
			case "text":
				a.AddText(p.Text)
			case "thinking":
				// The model's own reasoning: no other model reads it.
			default:
				return chat.Message{}, invalid(format.Index(field+".content", j)+".type", "assistant content parts must be text or thinking")
			}
		}
		if !a.HasText() && m.ToolPlan != "" {
			a.AddText(m.ToolPlan)
		}
		for j, tc := range m.ToolCalls {
			if tc.ID == "" || tc.Function.Name == "" {
				return chat.Message{}, invalid(format.Index(field+".tool_calls", j), "a tool call needs id and function.name")
			}
			m.ToolCalls[j].Type = "function"
		}
		a.Calls = m.ToolCalls
		return a.Message(), nil
	case "tool":
		if m.ToolCallID == "" {
			return chat.Message{}, invalid(field+".tool_call_id", "a tool message needs tool_call_id")
		}
		var text strings.Builder
		for j, p := range ps {
			pf := format.Index(field+".content", j)
			if j > 0 {
				text.WriteByte('\n')
			}
			switch p.Type {
			case "text":
				text.WriteString(p.Text)
			case "document":
				d, err := document(pf+".document", p.Document)
				if err != nil {
					return chat.Message{}, err
				}
				text.WriteString(d)
			default:
				return chat.Message{}, invalid(pf+".type", "tool content parts must be text or document")
			}
		}
		return chat.Message{Role: "tool", ToolCallID: m.ToolCallID, Content: chat.Text(text.String())}, nil
	}
	return chat.Message{}, invalid(field+".role", "role must be system, user, assistant or tool")
}

// document renders a document's data as text: a string as it is, an object as compact JSON.
func document(field string, d *wireDocument) (string, error) {
	if d == nil || chat.IsNull(d.Data) {
		return "", invalid(field, "a document needs data")
	}
	data := bytes.TrimSpace(d.Data)
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", invalid(field+".data", err.Error())
		}
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return "", invalid(field+".data", err.Error())
	}
	return b.String(), nil
}

// documents renders the request's documents (strings, or objects with id and data) as the
// text of a system message, one document a line.
func documents(raws []json.RawMessage) (string, error) {
	var b strings.Builder
	b.WriteString("Use these documents to answer:")
	for i, raw := range raws {
		field := format.Index("documents", i)
		d := &wireDocument{Data: raw}
		if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '{' {
			d = &wireDocument{}
			if err := json.Unmarshal(raw, d); err != nil {
				return "", invalid(field, "a document must be a string or an object with data")
			}
		}
		text, err := document(field, d)
		if err != nil {
			return "", err
		}
		id := d.ID
		if id == "" {
			id = "doc:" + strconv.Itoa(i)
		}
		b.WriteString("\n[" + id + "] ")
		b.WriteString(text)
	}
	return b.String(), nil
}
