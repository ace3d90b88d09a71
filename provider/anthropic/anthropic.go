// Package anthropic is the provider for Anthropic's Messages API (POST /v1/messages).
//
// Requests: system and developer messages become the top-level system prompt (joined by a
// blank line, wherever they appear); text and image parts become content blocks (data: URLs
// a base64 source, other URLs a url source); assistant tool_calls become tool_use blocks and
// tool messages tool_result blocks, consecutive ones merged into one user turn; tools and
// tool_choice ("auto", "none", "required" → any, a named function → tool) map directly, and
// parallel_tool_calls=false sets disable_parallel_tool_use. max_tokens, which Anthropic
// requires, is max_completion_tokens, else max_tokens, else model.options.max_tokens, else
// DefaultMaxTokens. temperature is clamped to Anthropic's 0..1; top_p, top_k and stop
// (→ stop_sequences) pass through; user becomes metadata.user_id. Anthropic has no JSON mode:
// response_format json_object or json_schema appends an instruction (with the schema) to the
// system prompt. n, seed, logprobs and the penalties have no Anthropic equivalent and are
// ignored. The anthropic-version header is model.options.anthropic_version or DefaultVersion.
//
// Responses: text blocks are joined into content, tool_use blocks become tool_calls, thinking
// blocks are dropped; stop_reason end_turn, stop_sequence and pause_turn → stop, max_tokens →
// length, tool_use → tool_calls, refusal → content_filter. Usage: prompt_tokens counts input,
// cache-creation and cache-read tokens (Anthropic reports them apart); cached_tokens is
// cache_read_input_tokens.
package anthropic

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

const (
	// DefaultBaseURL is Anthropic's API root.
	DefaultBaseURL = "https://api.anthropic.com"
	// DefaultVersion is the anthropic-version header sent when model.options.anthropic_version
	// is not set.
	DefaultVersion = "2023-06-01"
	// DefaultMaxTokens is max_tokens when neither the request nor model.options set it.
	DefaultMaxTokens = 4096
)

// Provider speaks Anthropic's Messages API. The zero value is ready to use.
type Provider struct {
	// BaseURL is the API root; empty means DefaultBaseURL. model.options.upstream_url, when
	// set, is the whole URL instead.
	BaseURL string
	// Now gives the "created" time of translated responses; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

// URL returns the Messages endpoint of r.
func (p Provider) URL(r *provider.Request) string {
	return openai.URL(cmp.Or(p.BaseURL, DefaultBaseURL), "/v1/messages", r)
}

func badRequest(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "anthropic: " + msg}
}

// NewRequest translates an OpenAI chat request into a Messages API request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	if r.RouteType != provider.Chat {
		return nil, badRequest("route type " + string(r.RouteType) + " is not supported (only " + string(provider.Chat) + ")")
	}
	body, err := translateRequest(r)
	if err != nil {
		return nil, err
	}
	req, err := openai.NewJSONRequest(ctx, p.URL(r), body, r.Stream)
	if err != nil {
		return nil, err
	}
	v := r.Model.Options.AnthropicVersion
	if v == "" {
		v = DefaultVersion
	}
	req.Header["Anthropic-Version"] = []string{v}
	return req, nil
}

// --- request wire types ----------------------------------------------------------------

type messagesRequest struct {
	Model         string      `json:"model"`
	System        string      `json:"system,omitempty"`
	Messages      []message   `json:"messages"`
	MaxTokens     int         `json:"max_tokens"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	TopK          *int        `json:"top_k,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
	Stream        bool        `json:"stream,omitempty"`
	Tools         []tool      `json:"tools,omitempty"`
	ToolChoice    *toolChoice `json:"tool_choice,omitempty"`
	Metadata      *metadata   `json:"metadata,omitempty"`
}

type metadata struct {
	UserID string `json:"user_id"`
}

type message struct {
	Role    string  `json:"role"`
	Content content `json:"content"`
}

// content is a string when Text is set and Blocks is nil, else an array of blocks.
type content struct {
	Text   string
	Blocks []block
}

func (c content) MarshalJSON() ([]byte, error) {
	if c.Blocks != nil {
		return json.Marshal(c.Blocks)
	}
	return json.Marshal(c.Text)
}

type block struct {
	Type string `json:"type"`
	// text
	Text *string `json:"text,omitempty"`
	// image
	Source *source `json:"source,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result
	ToolUseID string   `json:"tool_use_id,omitempty"`
	Content   *content `json:"content,omitempty"`
}

type source struct {
	Type      string `json:"type"` // base64 or url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type toolChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// --- request translation ---------------------------------------------------------------

func textBlock(s string) block { return block{Type: "text", Text: &s} }

func translateRequest(r *provider.Request) ([]byte, error) {
	in, err := xlate.DecodeChat(r)
	if err != nil {
		return nil, err
	}
	out := messagesRequest{Model: in.Model, Stream: r.Stream, TopP: in.TopP, TopK: in.TopK}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	o := r.Model.Options
	switch {
	case in.MaxCompletionTokens != nil:
		out.MaxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		out.MaxTokens = *in.MaxTokens
	case o.MaxTokens != nil:
		out.MaxTokens = *o.MaxTokens
	default:
		out.MaxTokens = DefaultMaxTokens
	}
	temp := in.Temperature
	if temp == nil {
		temp = o.Temperature
	}
	if temp != nil {
		t := min(max(*temp, 0), 1)
		out.Temperature = &t
	}
	if out.TopP == nil {
		out.TopP = o.TopP
	}
	for _, s := range in.Stop {
		if strings.TrimSpace(s) != "" { // Anthropic rejects whitespace-only sequences
			out.StopSequences = append(out.StopSequences, s)
		}
	}
	if in.User != "" {
		out.Metadata = &metadata{UserID: in.User}
	}

	var system []string
	for i := 0; i < len(in.Messages); i++ {
		m := in.Messages[i]
		switch m.Role {
		case "system", "developer":
			if s := m.Content.String(); s != "" {
				system = append(system, s)
			}
		case "user":
			blocks, err := userContent(m.Content)
			if err != nil {
				return nil, err
			}
			if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == "user" && hasToolResult(out.Messages[n-1]) {
				// Text after tool results belongs in the same turn, after them.
				out.Messages[n-1].Content.Blocks = append(out.Messages[n-1].Content.Blocks, toBlocks(blocks)...)
				continue
			}
			out.Messages = append(out.Messages, message{Role: "user", Content: blocks})
		case "assistant":
			c, err := assistantContent(m)
			if err != nil {
				return nil, err
			}
			if c.Blocks == nil && c.Text == "" {
				// Anthropic refuses empty content; it also joins consecutive turns of one
				// role, so leaving the message out changes nothing else.
				continue
			}
			out.Messages = append(out.Messages, message{Role: "assistant", Content: c})
		case "tool":
			res := toolResult(m)
			if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == "user" && hasToolResult(out.Messages[n-1]) {
				out.Messages[n-1].Content.Blocks = append(out.Messages[n-1].Content.Blocks, res)
				continue
			}
			out.Messages = append(out.Messages, message{Role: "user", Content: content{Blocks: []block{res}}})
		default:
			return nil, badRequest("message role " + m.Role + " is not supported")
		}
	}
	if s := xlate.JSONInstruction(in.ResponseFormat); s != "" {
		system = append(system, s)
	}
	out.System = strings.Join(system, "\n\n")
	if out.Messages == nil {
		out.Messages = []message{}
	}

	if len(in.Tools) > 0 {
		for _, t := range in.Tools {
			if t.Type != "" && t.Type != "function" {
				return nil, badRequest("tool type " + t.Type + " is not supported")
			}
			schema := t.Function.Parameters
			if len(schema) == 0 || string(schema) == "null" {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			out.Tools = append(out.Tools, tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
		}
	}
	tc, err := translateToolChoice(in.ToolChoice)
	if err != nil {
		return nil, err
	}
	if in.ParallelToolCalls != nil && !*in.ParallelToolCalls && len(out.Tools) > 0 {
		if tc == nil {
			tc = &toolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			tc.DisableParallelToolUse = true
		}
	}
	if len(out.Tools) > 0 || (tc != nil && tc.Type == "none") {
		out.ToolChoice = tc
	}
	return json.Marshal(out)
}

func toBlocks(c content) []block {
	if c.Blocks != nil {
		return c.Blocks
	}
	if c.Text == "" {
		return nil
	}
	return []block{textBlock(c.Text)}
}

func hasToolResult(m message) bool {
	for _, b := range m.Content.Blocks {
		if b.Type == "tool_result" {
			return true
		}
	}
	return false
}

// translateToolChoice maps tool_choice auto, none, required and a named function onto
// Anthropic's auto, none, any and tool; nil when the request has none.
func translateToolChoice(raw json.RawMessage) (*toolChoice, error) {
	c, err := xlate.ParseToolChoice(raw)
	if err != nil {
		return nil, err
	}
	switch c.Mode {
	case "":
		return nil, nil
	case "required":
		return &toolChoice{Type: "any"}, nil
	case "function":
		return &toolChoice{Type: "tool", Name: c.Name}, nil
	}
	return &toolChoice{Type: c.Mode}, nil // auto, none
}

// userContent translates user content: a string stays a string.
func userContent(c provider.Content) (content, error) {
	if c.Parts == nil {
		return content{Text: c.Text}, nil
	}
	blocks := []block{}
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				blocks = append(blocks, textBlock(p.Text))
			}
		case "image_url":
			if p.ImageURL == nil {
				return content{}, badRequest("image_url part without a url")
			}
			src, err := imageSource(p.ImageURL.URL)
			if err != nil {
				return content{}, err
			}
			blocks = append(blocks, block{Type: "image", Source: src})
		default:
			return content{}, badRequest("content part type " + p.Type + " is not supported")
		}
	}
	return content{Blocks: blocks}, nil
}

// imageSource turns a data: URL into a base64 source and any other URL into a url source.
func imageSource(u string) (*source, error) {
	if strings.HasPrefix(u, "data:") {
		mediaType, data, ok := xlate.DataURLBase64(u)
		if !ok || mediaType == "" {
			return nil, badRequest("image data URLs must be data:<media type>;base64,<data>")
		}
		return &source{Type: "base64", MediaType: mediaType, Data: data}, nil
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return nil, badRequest("image URL must be https:// or a data: URL")
	}
	return &source{Type: "url", URL: u}, nil
}

func assistantContent(m provider.Message) (content, error) {
	if len(m.ToolCalls) == 0 {
		if m.Content.Parts == nil {
			return content{Text: m.Content.Text}, nil
		}
		return content{Blocks: toBlocks(content{Text: m.Content.String()})}, nil
	}
	blocks := toBlocks(content{Text: m.Content.String()})
	for _, tc := range m.ToolCalls {
		input, err := xlate.Args(tc)
		if err != nil {
			return content{}, err
		}
		blocks = append(blocks, block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return content{Blocks: blocks}, nil
}

func toolResult(m provider.Message) block {
	c := content{Text: m.Content.String()}
	return block{Type: "tool_result", ToolUseID: m.ToolCallID, Content: &c}
}
