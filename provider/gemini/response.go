package gemini

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

type generateResponse struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
	Error          json.RawMessage `json:"error"`
}

// id is the response's id: its responseId, else "gemini-" and a hash of raw, its JSON.
func (g *generateResponse) id(raw []byte) string {
	if g.ResponseID != "" {
		return g.ResponseID
	}
	f := fnv.New64a()
	f.Write(raw)
	return "gemini-" + strconv.FormatUint(f.Sum64(), 16)
}

type candidate struct {
	Content      contentT `json:"content"`
	FinishReason string   `json:"finishReason"`
	Index        int      `json:"index"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
}

// openai maps usageMetadata: completion tokens include thinking tokens, as OpenAI counts
// reasoning tokens; prompt tokens include tool-use prompt tokens.
func (u *usageMetadata) openai() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	prompt := u.PromptTokenCount + u.ToolUsePromptTokenCount
	completion := u.CandidatesTokenCount + u.ThoughtsTokenCount
	total := u.TotalTokenCount
	if total == 0 {
		total = prompt + completion
	}
	return provider.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: total,
		CachedTokens: u.CachedContentTokenCount}
}

// FinishReason maps a Gemini finishReason to OpenAI's finish_reason; toolCalls says the
// candidate called functions (Gemini then still says STOP). The reasons that mean the
// candidate is no answer at all are errors instead: see finishError.
func FinishReason(reason string, toolCalls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER":
		return "content_filter" // generation (of text or of an image) was stopped by a filter
	}
	if toolCalls {
		return "tool_calls"
	}
	// STOP, NO_IMAGE (the text answer is whole), OTHER, FINISH_REASON_UNSPECIFIED and
	// reasons added later.
	return "stop"
}

// finishError is the error of a candidate that Gemini ended without a usable answer, nil
// for every other finishReason. MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
// TOO_MANY_TOOL_CALLS and MALFORMED_RESPONSE mean the model produced no valid answer (as
// OpenAI answers 500 for invalid model output): a 502, which fails over.
// MISSING_THOUGHT_SIGNATURE faults the request's history: a 400.
func finishError(reason string) *provider.Error {
	switch reason {
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "MALFORMED_RESPONSE":
		return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Code: reason,
			Message: "gemini: the model produced no valid answer (finishReason " + reason + ")"}
	case "MISSING_THOUGHT_SIGNATURE":
		return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: reason, Param: "messages",
			Message: "gemini: a function call in the history lacks the thought signature Gemini requires"}
	}
	return nil
}

func invalid(err error) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
		Message: "gemini: the upstream returned an invalid response: " + err.Error()}
}

// ParseResponse translates a generateContent response into a chat.completion, or an
// embeddings response into an embeddings list.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	if r != nil && r.RouteType == provider.Embeddings {
		return parseEmbeddings(r, body)
	}
	if r != nil && (r.RouteType == provider.ImageGenerations || r.RouteType == provider.ImageEdits) {
		return p.parseImages(r, h, body)
	}
	var g generateResponse
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, invalid(err)
	}
	if len(g.Error) > 0 && string(g.Error) != "null" {
		return nil, p.ParseError(r, http.StatusBadGateway, h, body)
	}
	model := g.ModelVersion
	if model == "" && r != nil {
		model = modelName(r, "")
	}
	out := provider.ChatCompletion{ID: g.id(body), Object: "chat.completion", Created: xlate.Now(p.Now), Model: model, Choices: []provider.Choice{}}
	calls := 0
	for i, c := range g.Candidates {
		if e := finishError(c.FinishReason); e != nil {
			return nil, e
		}
		msg := provider.ResponseMessage{Role: "assistant"}
		var text strings.Builder
		hasText := false
		for _, pt := range c.Content.Parts {
			switch {
			case pt.FunctionCall != nil:
				msg.ToolCalls = append(msg.ToolCalls, provider.ToolCall{
					ID: ToolCallID(g.ResponseID, calls), Type: "function",
					Function:     provider.FunctionCall{Name: pt.FunctionCall.Name, Arguments: xlate.ArgsString(pt.FunctionCall.Args)},
					ExtraContent: extraContent(pt.ThoughtSignature)})
				calls++
			case pt.Text != nil && !pt.Thought:
				text.WriteString(*pt.Text)
				hasText = true
			}
		}
		if hasText || len(msg.ToolCalls) == 0 {
			s := text.String()
			msg.Content = &s
		}
		idx := c.Index
		if idx == 0 {
			idx = i
		}
		out.Choices = append(out.Choices, provider.Choice{Index: idx, Message: msg,
			FinishReason: FinishReason(c.FinishReason, len(msg.ToolCalls) > 0)})
	}
	if len(out.Choices) == 0 { // the prompt was blocked
		empty := ""
		out.Choices = append(out.Choices, provider.Choice{Message: provider.ResponseMessage{Role: "assistant", Content: &empty},
			FinishReason: "content_filter"})
	}
	u := g.UsageMetadata.openai()
	out.Usage = &u
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: b, Model: model, Usage: u}, nil
}

// --- errors ----------------------------------------------------------------------------

type googleError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Type       string `json:"@type"`
		RetryDelay string `json:"retryDelay"`
	} `json:"details"`
}

// statusOf maps a google.rpc status name to its HTTP status.
func statusOf(name string) int {
	switch name {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return http.StatusBadRequest
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "ALREADY_EXISTS", "ABORTED":
		return http.StatusConflict
	case "RESOURCE_EXHAUSTED":
		return http.StatusTooManyRequests
	case "CANCELLED":
		return 499
	case "UNIMPLEMENTED":
		return http.StatusNotImplemented
	case "UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "DEADLINE_EXCEEDED":
		return http.StatusGatewayTimeout
	case "INTERNAL", "UNKNOWN", "DATA_LOSS":
		return http.StatusInternalServerError
	}
	return 0
}

// ParseError translates Google's {"error":{"code","message","status","details"}} body (also
// inside a JSON array, as streamGenerateContent without alt=sse sends it). The status name
// becomes the code; a RetryInfo detail sets RetryAfter when no Retry-After header does.
func (Provider) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return parseError(status, h, body)
}

func parseError(status int, h http.Header, body []byte) *provider.Error {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '[' {
		var arr []json.RawMessage
		if json.Unmarshal(b, &arr) == nil && len(arr) > 0 {
			b = arr[0]
		}
	}
	var doc struct {
		Error *googleError `json:"error"`
	}
	if json.Unmarshal(b, &doc) != nil || doc.Error == nil {
		e := openai.ParseErrorBody(status, h, body)
		if e.Status < 400 {
			e.Status, e.Type = http.StatusBadGateway, "server_error"
		}
		return e
	}
	ge := doc.Error
	st := statusOf(ge.Status)
	if st == 0 {
		st = status
		if st < 400 {
			st = ge.Code
		}
		if st < 400 || st > 599 {
			st = http.StatusBadGateway
		}
	}
	e := &provider.Error{Status: st, Type: provider.ErrorType(st), Code: ge.Status, Message: ge.Message,
		RetryAfter: provider.RetryAfter(h, time.Now())}
	if e.RetryAfter == 0 {
		for _, d := range ge.Details {
			if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") && d.RetryDelay != "" {
				if dur, err := time.ParseDuration(d.RetryDelay); err == nil && dur > 0 {
					e.RetryAfter = dur
				}
			}
		}
	}
	if e.Message == "" {
		e.Message = "gemini: upstream status " + strconv.Itoa(status)
	}
	return e
}
