package anthropic

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

type messageResponse struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      usage           `json:"usage"`
	Error      *errorDetail    `json:"error"`
}

type responseBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// merge takes the fields u reports (non-zero) over t.
func (t *usage) merge(u usage) {
	if u.InputTokens > 0 {
		t.InputTokens = u.InputTokens
	}
	if u.OutputTokens > 0 {
		t.OutputTokens = u.OutputTokens
	}
	if u.CacheCreationInputTokens > 0 {
		t.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.CacheReadInputTokens > 0 {
		t.CacheReadInputTokens = u.CacheReadInputTokens
	}
}

func (u usage) openai() provider.Usage {
	prompt := u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
	return provider.Usage{PromptTokens: prompt, CompletionTokens: u.OutputTokens,
		TotalTokens: prompt + u.OutputTokens, CachedTokens: u.CacheReadInputTokens}
}

// FinishReason maps an Anthropic stop_reason to OpenAI's finish_reason.
func FinishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	default: // end_turn, stop_sequence, pause_turn
		return "stop"
	}
}

// ParseResponse translates a Messages API response into a chat.completion.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	var m messageResponse
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "anthropic: the upstream returned an invalid message: " + err.Error()}
	}
	if m.Type == "error" || m.Error != nil {
		return nil, p.ParseError(r, http.StatusBadGateway, h, body)
	}
	msg := provider.ResponseMessage{Role: "assistant"}
	var text strings.Builder
	hasText := false
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "tool_use":
			args := "{}"
			if len(b.Input) > 0 && string(b.Input) != "null" {
				var buf bytes.Buffer
				if json.Compact(&buf, b.Input) == nil {
					args = buf.String()
				}
			}
			msg.ToolCalls = append(msg.ToolCalls, provider.ToolCall{ID: b.ID, Type: "function",
				Function: provider.FunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	if hasText || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	u := m.Usage.openai()
	out := provider.ChatCompletion{ID: m.ID, Object: "chat.completion", Created: xlate.Now(p.Now), Model: m.Model,
		Choices: []provider.Choice{{Index: 0, Message: msg, FinishReason: FinishReason(m.StopReason)}}, Usage: &u}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: b, Model: m.Model, Usage: u}, nil
}

// --- errors ----------------------------------------------------------------------------

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// statusOf maps an Anthropic error type (or, failing that, its HTTP status) to the nearest
// OpenAI status and error type.
func statusOf(errType string, status int) (int, string) {
	switch errType {
	case "invalid_request_error":
		if status == http.StatusRequestEntityTooLarge || status == http.StatusConflict {
			return status, provider.ErrorType(status)
		}
		return http.StatusBadRequest, "invalid_request_error"
	case "authentication_error":
		return http.StatusUnauthorized, "authentication_error"
	case "permission_error":
		return http.StatusForbidden, "permission_error"
	case "not_found_error":
		return http.StatusNotFound, "not_found_error"
	case "request_too_large":
		return http.StatusRequestEntityTooLarge, "request_too_large"
	case "rate_limit_error":
		return http.StatusTooManyRequests, "rate_limit_error"
	case "billing_error":
		return http.StatusTooManyRequests, "insufficient_quota" // OpenAI's status and type for quota; parseError sets the code
	case "api_error":
		return http.StatusInternalServerError, "server_error"
	case "overloaded_error":
		return http.StatusServiceUnavailable, "server_error"
	case "timeout_error":
		return http.StatusGatewayTimeout, "server_error"
	}
	switch {
	case status == 529:
		return http.StatusServiceUnavailable, "server_error"
	case status == http.StatusPaymentRequired:
		return http.StatusTooManyRequests, "insufficient_quota"
	case status < 400:
		return http.StatusBadGateway, "server_error"
	}
	return status, provider.ErrorType(status)
}

// ParseError translates Anthropic's {"type":"error","error":{"type","message"}} body. The
// Anthropic error type is kept as the code; 529 overloaded becomes 503.
func (Provider) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return parseError(status, h, body)
}

func parseError(status int, h http.Header, body []byte) *provider.Error {
	var doc struct {
		Error *errorDetail `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Error == nil || (doc.Error.Type == "" && doc.Error.Message == "") {
		e := openai.ParseErrorBody(status, h, body)
		e.Status, e.Type = statusOf("", status)
		if status == 529 {
			e.Code = "overloaded_error"
		}
		if e.Type == "insufficient_quota" {
			xlate.InsufficientQuota(e)
		}
		if e.Message == "" {
			e.Message = "anthropic: upstream status " + strconv.Itoa(status)
		}
		return e
	}
	st, typ := statusOf(doc.Error.Type, status)
	e := &provider.Error{Status: st, Type: typ, Message: doc.Error.Message, RetryAfter: provider.RetryAfter(h, time.Now())}
	if doc.Error.Type != typ {
		e.Code = doc.Error.Type
	}
	if typ == "insufficient_quota" {
		xlate.InsufficientQuota(e)
	}
	if e.Message == "" {
		e.Message = doc.Error.Type
	}
	if e.Message == "" {
		e.Message = "anthropic error " + strconv.Itoa(status)
	}
	return e
}
