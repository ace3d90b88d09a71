// Package cohere is the provider for Cohere's v2 API: POST /v2/chat (JSON, or server-sent
// events when streaming) and POST /v2/embed.
package cohere

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// DefaultBaseURL is Cohere's API root.
const DefaultBaseURL = "https://api.cohere.com"

// Provider speaks Cohere's v2 API. The zero value targets DefaultBaseURL.
type Provider struct {
	// BaseURL is the API root; empty means DefaultBaseURL. upstream_url overrides it.
	BaseURL string
	// Now is the clock for the created field when the response has no Date header; nil
	// means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

// Path returns the API path of a route type.
func Path(rt provider.RouteType) string {
	if rt == provider.Embeddings {
		return "/v2/embed"
	}
	return "/v2/chat"
}

func (p Provider) url(r *provider.Request) string {
	return openai.URL(cmp.Or(p.BaseURL, DefaultBaseURL), Path(r.RouteType), r)
}

type (
	chatRequest struct {
		Model            string          `json:"model"`
		Messages         []message       `json:"messages"`
		Tools            []tool          `json:"tools,omitempty"`
		ToolChoice       string          `json:"tool_choice,omitempty"`
		Stream           bool            `json:"stream"`
		MaxTokens        *int            `json:"max_tokens,omitempty"`
		Temperature      *float64        `json:"temperature,omitempty"`
		P                *float64        `json:"p,omitempty"`
		K                *int            `json:"k,omitempty"`
		StopSequences    []string        `json:"stop_sequences,omitempty"`
		Seed             *int            `json:"seed,omitempty"`
		FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
		PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
		ResponseFormat   *responseFormat `json:"response_format,omitempty"`
	}
	message struct {
		Role       string              `json:"role"`
		Content    any                 `json:"content,omitempty"` // string or []provider.ContentPart
		ToolCalls  []provider.ToolCall `json:"tool_calls,omitempty"`
		ToolCallID string              `json:"tool_call_id,omitempty"`
	}
	tool struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	}
	responseFormat struct {
		Type       string          `json:"type"`
		JSONSchema json.RawMessage `json:"json_schema,omitempty"`
	}
)

// NewRequest builds a /v2/chat or /v2/embed request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	var (
		body []byte
		err  error
	)
	switch r.RouteType {
	case provider.Chat:
		body, err = chatBody(r)
	case provider.Embeddings:
		body, err = embedBody(r)
	default:
		return nil, xlate.BadRequest("", "cohere: route type "+string(r.RouteType)+" is not supported")
	}
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, p.url(r), body, r.Stream && r.RouteType == provider.Chat)
}

func chatBody(r *provider.Request) ([]byte, error) {
	req, err := xlate.DecodeChat(r)
	if err != nil {
		return nil, err
	}
	out := chatRequest{Model: req.Model, Stream: r.Stream, MaxTokens: req.MaxCompletionTokens, Temperature: req.Temperature,
		P: req.TopP, K: req.TopK, StopSequences: req.Stop, Seed: req.Seed,
		FrequencyPenalty: req.FrequencyPenalty, PresencePenalty: req.PresencePenalty}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	if out.MaxTokens == nil {
		out.MaxTokens = req.MaxTokens
	}
	for _, m := range req.Messages {
		msg := message{Role: m.Role}
		switch m.Role {
		case "system", "developer":
			msg.Role = "system"
			msg.Content = m.Content.String()
		case "user":
			if m.Content.Parts == nil {
				msg.Content = m.Content.Text
				break
			}
			for _, part := range m.Content.Parts {
				if part.Type != "text" && part.Type != "image_url" {
					return nil, xlate.BadRequest("messages", "cohere: content part type "+part.Type+" is not supported")
				}
			}
			msg.Content = m.Content.Parts // Cohere v2 takes OpenAI's text and image_url parts
		case "assistant":
			if s := m.Content.String(); s != "" {
				msg.Content = s
			}
			for _, tc := range m.ToolCalls {
				if _, err := xlate.Args(tc); err != nil {
					return nil, err
				}
				msg.ToolCalls = append(msg.ToolCalls, provider.ToolCall{ID: tc.ID, Type: "function",
					Function: provider.FunctionCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
			}
		case "tool":
			msg.ToolCallID = m.ToolCallID
			msg.Content = m.Content.String()
		default:
			return nil, xlate.BadRequest("messages", "unknown message role "+strconv.Quote(m.Role))
		}
		out.Messages = append(out.Messages, msg)
	}
	if len(req.Tools) > 0 {
		choice, err := xlate.ParseToolChoice(req.ToolChoice)
		if err != nil {
			return nil, err
		}
		offered, err := choice.Offered(req.Tools) // Cohere cannot force one tool: offer it alone, and require a call
		if err != nil {
			return nil, err
		}
		for _, t := range offered {
			out.Tools = append(out.Tools, tool{Type: "function", Function: function{Name: t.Function.Name,
				Description: t.Function.Description, Parameters: t.Function.Parameters}})
		}
		switch choice.Mode {
		case "required", "function":
			out.ToolChoice = "REQUIRED"
		case "none":
			out.ToolChoice = "NONE"
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			out.ResponseFormat = &responseFormat{Type: "json_object"}
		case "json_schema":
			var js struct {
				Schema json.RawMessage `json:"schema"`
			}
			if err := json.Unmarshal(rf.JSONSchema, &js); err != nil || len(js.Schema) == 0 {
				return nil, xlate.BadRequest("response_format", "json_schema without a schema")
			}
			out.ResponseFormat = &responseFormat{Type: "json_object", JSONSchema: js.Schema}
		}
	}
	return json.Marshal(out)
}

type (
	chatResponse struct {
		ID           string `json:"id"`
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			ToolCalls []provider.ToolCall `json:"tool_calls"`
		} `json:"message"`
		Usage *usage `json:"usage"`
	}
	usage struct {
		BilledUnits *tokens `json:"billed_units"`
		Tokens      *tokens `json:"tokens"`
		CachedTok   int     `json:"cached_tokens"`
	}
	tokens struct {
		InputTokens  float64 `json:"input_tokens"`
		OutputTokens float64 `json:"output_tokens"`
	}
)

// toUsage prefers the tokens the model saw over the billed units.
func (u *usage) toUsage() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	t := u.Tokens
	if t == nil {
		t = u.BilledUnits
	}
	if t == nil {
		return provider.Usage{}
	}
	in, out := int(t.InputTokens), int(t.OutputTokens)
	return provider.Usage{PromptTokens: in, CompletionTokens: out, TotalTokens: in + out, CachedTokens: u.CachedTok}
}

// FinishReason maps Cohere's finish_reason onto OpenAI's. ERROR is not a finish: see
// finishError.
func FinishReason(s string) string {
	switch s {
	case "MAX_TOKENS":
		return xlate.Length
	case "TOOL_CALL":
		return xlate.ToolCalls
	default: // COMPLETE, STOP_SEQUENCE, TIMEOUT
		return xlate.Stop
	}
}

// finishError is the 502 of a generation that Cohere ended with finish_reason ERROR (with
// the error Cohere gave, if any), or nil for any other finish_reason.
func finishError(reason, msg string) *provider.Error {
	if reason != "ERROR" {
		return nil
	}
	if msg == "" {
		msg = "the generation failed (finish_reason ERROR)"
	}
	return xlate.BadGateway("cohere: " + msg)
}

// ParseResponse translates a /v2/chat or /v2/embed response.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	if r != nil && r.RouteType == provider.Embeddings {
		return parseEmbeddings(r, body)
	}
	var resp chatResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, xlate.BadGateway("cohere: cannot decode the chat response: " + err.Error())
	}
	if e := finishError(resp.FinishReason, ""); e != nil {
		return nil, e
	}
	var (
		sb  strings.Builder
		has bool
	)
	for _, c := range resp.Message.Content {
		if c.Type == "text" || c.Type == "" {
			sb.WriteString(c.Text)
			has = true
		}
	}
	calls := resp.Message.ToolCalls
	for i := range calls {
		calls[i].Type = "function"
		calls[i].Index = nil
		if calls[i].Function.Arguments == "" {
			calls[i].Function.Arguments = "{}"
		}
	}
	var content *string
	if has || len(calls) == 0 {
		s := sb.String()
		content = &s
	}
	id := resp.ID
	if id == "" {
		id = xlate.ID("", body)
	}
	u := resp.Usage.toUsage()
	out, err := xlate.Completion("chatcmpl-"+id, xlate.Model(r), xlate.Created(h, p.Now), content, calls, FinishReason(resp.FinishReason), u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Usage: u}, nil
}

// Status maps Cohere's HTTP statuses onto the ones the proxy classifies: 498 (invalid
// token) is 401, 402 (payment required) is 429 insufficient_quota so that failover moves on.
func Status(status int) int {
	switch status {
	case 498:
		return http.StatusUnauthorized
	case http.StatusPaymentRequired:
		return http.StatusTooManyRequests
	case 499: // the request was cancelled upstream
		return http.StatusBadGateway
	}
	return status
}

// ParseError reads Cohere's {"message": ...} error body.
func (p Provider) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	e := openai.ParseErrorBody(Status(status), h, body)
	e.Type = provider.ErrorType(e.Status)
	if status == http.StatusPaymentRequired {
		xlate.InsufficientQuota(e)
	}
	return e
}
