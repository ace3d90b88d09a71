// Package aiproxytest provides fake LLM upstreams for tests: an HTTP server that speaks
// OpenAI's chat completions and embeddings wire format (status codes, headers, error bodies
// and server-sent event framing as OpenAI's API reference documents them), records what it
// receives, and fails on request.
package aiproxytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aiproxy/aiproxy/provider"
)

// OpenAI is a fake OpenAI-compatible API.
type OpenAI struct {
	*httptest.Server

	// APIKey, when set, is required as "Authorization: Bearer <APIKey>"; other requests get
	// OpenAI's 401 invalid_api_key error.
	APIKey string
	// Reply computes the assistant's answer; nil answers "Hello from <model>".
	Reply func(req *provider.ChatRequest) string
	// Call, when set and returning non-nil, answers with that function call instead of text
	// (finish_reason "tool_calls"; streamed as its name, then its arguments). Nil answers text.
	Call func(req *provider.ChatRequest) *provider.FunctionCall
	// Created is the timestamp put in responses; zero means 1700000000.
	Created int64
	// Embed computes the embeddings of inputs, with the dimensions the request asked for (0
	// when it did not); nil means BagOfWords with 64 dimensions by default. Set it before the
	// first request.
	Embed func(inputs []string, dims int) [][]float32

	mu       sync.Mutex
	requests []Request
	failures []failure
}

// Request is a request the server received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

type failure struct {
	status     int
	retryAfter string
	drop       bool // close the connection without answering
	delay      time.Duration
}

// NewOpenAI starts a fake OpenAI API; Close it when done. Its base URL is URL + "/v1".
func NewOpenAI() *OpenAI {
	f := &OpenAI{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// BaseURL is the API root, like https://api.openai.com/v1.
func (f *OpenAI) BaseURL() string { return f.URL + "/v1" }

// ChatURL is the chat completions endpoint.
func (f *OpenAI) ChatURL() string { return f.BaseURL() + "/chat/completions" }

// Fail makes the next n requests answer status with OpenAI's error body for it. For 429,
// retryAfter (seconds; may be empty) is sent as Retry-After.
func (f *OpenAI) Fail(status, n int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// Drop makes the next n requests end with the connection closed and no response.
func (f *OpenAI) Drop(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{drop: true})
	}
}

// Stall makes the next n requests wait d before answering.
func (f *OpenAI) Stall(n int, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{delay: d})
	}
}

// Requests returns the requests received so far.
func (f *OpenAI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	var fl *failure
	if len(f.failures) > 0 {
		fl = &f.failures[0]
		f.failures = f.failures[1:]
	}
	f.mu.Unlock()

	w.Header().Set("X-Request-Id", fmt.Sprintf("req_%x", fnv32(body)))
	w.Header().Set("Openai-Version", "2020-10-01")
	w.Header().Set("Openai-Processing-Ms", "42")
	if fl != nil {
		switch {
		case fl.drop:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
				}
			}
			return
		case fl.delay > 0:
			select {
			case <-time.After(fl.delay):
			case <-r.Context().Done():
				return
			}
		default:
			if fl.retryAfter != "" {
				w.Header().Set("Retry-After", fl.retryAfter)
			}
			writeError(w, fl.status, errorBodies[fl.status])
			return
		}
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, apiError{"Method not allowed.", "invalid_request_error", nil})
		return
	}
	if f.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+f.APIKey {
		msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
		if r.Header.Get("Authorization") != "" {
			msg = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
		}
		writeError(w, http.StatusUnauthorized, apiError{msg, "invalid_request_error", strPtr("invalid_api_key")})
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		f.chat(w, body)
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		f.embeddings(w, body)
	default:
		writeError(w, http.StatusNotFound, apiError{"Invalid URL (POST " + r.URL.Path + ")", "invalid_request_error", nil})
	}
}

type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Code    *string `json:"code"`
}

func strPtr(s string) *string { return &s }

// errorBodies are OpenAI's documented error responses.
var errorBodies = map[int]apiError{
	400: {"Invalid request.", "invalid_request_error", nil},
	401: {"Incorrect API key provided.", "invalid_request_error", strPtr("invalid_api_key")},
	403: {"You are not allowed to sample from this model", "invalid_request_error", nil},
	404: {"The model `gpt-9` does not exist or you do not have access to it.", "invalid_request_error", strPtr("model_not_found")},
	429: {"Rate limit reached for requests. Please try again in 1s.", "requests", strPtr("rate_limit_exceeded")},
	500: {"The server had an error while processing your request. Sorry about that!", "server_error", nil},
	502: {"Bad gateway.", "server_error", nil},
	503: {"The engine is currently overloaded, please try again later.", "server_error", nil},
	504: {"Gateway timeout.", "server_error", nil},
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	if e.Message == "" {
		e = apiError{http.StatusText(status), "server_error", nil}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "param": nil, "code": e.Code}})
}

func (f *OpenAI) chat(w http.ResponseWriter, body []byte) {
	var req provider.ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, apiError{"We could not parse the JSON body of your request.", "invalid_request_error", nil})
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, apiError{"you must provide a model parameter", "invalid_request_error", nil})
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, apiError{"[] is too short - 'messages'", "invalid_request_error", strPtr("empty_array")})
		return
	}
	reply := "Hello from " + req.Model
	if f.Reply != nil {
		reply = f.Reply(&req)
	}
	created := f.Created
	if created == 0 {
		created = 1700000000
	}
	id := fmt.Sprintf("chatcmpl-%x", fnv32(body))
	prompt := 0
	for _, m := range req.Messages {
		prompt += tokens(m.Content.String()) + 4
	}
	var call *provider.FunctionCall
	if f.Call != nil {
		call = f.Call(&req)
	}
	if call != nil {
		reply = call.Arguments
	}
	usage := provider.Usage{PromptTokens: prompt, CompletionTokens: tokens(reply)}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	if !req.Stream {
		msg, finish := provider.ResponseMessage{Role: "assistant", Content: &reply}, "stop"
		if call != nil {
			msg, finish = provider.ResponseMessage{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "call_" + id, Type: "function", Function: *call}}}, "tool_calls"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(provider.ChatCompletion{
			ID: id, Object: "chat.completion", Created: created, Model: req.Model,
			Choices: []provider.Choice{{Message: msg, FinishReason: finish}},
			Usage:   &usage, SystemFingerprint: "fp_aiproxytest",
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush := func(c provider.ChatChunk) {
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	chunk := func(d provider.Delta, finish *string) provider.ChatChunk {
		return provider.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []provider.ChunkChoice{{Delta: d, FinishReason: finish}}}
	}
	empty := ""
	flush(chunk(provider.Delta{Role: "assistant", Content: &empty}, nil))
	stop := "stop"
	if call != nil {
		zero := 0
		flush(chunk(provider.Delta{ToolCalls: []provider.ToolCall{{Index: &zero, ID: "call_" + id, Type: "function", Function: provider.FunctionCall{Name: call.Name}}}}, nil))
		flush(chunk(provider.Delta{ToolCalls: []provider.ToolCall{{Index: &zero, Function: provider.FunctionCall{Arguments: call.Arguments}}}}, nil))
		stop = "tool_calls"
	} else {
		for _, word := range strings.SplitAfter(reply, " ") {
			flush(chunk(provider.Delta{Content: &word}, nil))
		}
	}
	flush(chunk(provider.Delta{}, &stop))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		flush(provider.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model, Choices: []provider.ChunkChoice{}, Usage: &usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// embeddings answers with deterministic unit vectors derived from each input's words.
func (f *OpenAI) embeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions int             `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Input) == 0 {
		writeError(w, http.StatusBadRequest, apiError{"'input' is a required property", "invalid_request_error", nil})
		return
	}
	var inputs []string
	if err := json.Unmarshal(req.Input, &inputs); err != nil {
		var one string
		if json.Unmarshal(req.Input, &one) != nil {
			writeError(w, http.StatusBadRequest, apiError{"'input' must be a string or an array of strings", "invalid_request_error", nil})
			return
		}
		inputs = []string{one}
	}
	var vecs [][]float32
	if f.Embed != nil {
		vecs = f.Embed(inputs, req.Dimensions)
	} else {
		dims := req.Dimensions
		if dims == 0 {
			dims = 64
		}
		for _, in := range inputs {
			vecs = append(vecs, BagOfWords(in, dims))
		}
	}
	resp := provider.EmbeddingResponse{Object: "list", Model: req.Model}
	for i, in := range inputs {
		resp.Data = append(resp.Data, provider.Embedding{Object: "embedding", Index: i, Embedding: vecs[i]})
		resp.Usage.PromptTokens += tokens(in)
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// BagOfWords is a deterministic toy embedding: each lower-cased word adds to a hashed
// dimension, and the vector is normalised. Texts sharing words are close.
func BagOfWords(text string, dims int) []float32 {
	v := make([]float32, dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		v[fnv32([]byte(w))%uint32(dims)]++
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(n))
		}
	}
	return v
}

func tokens(s string) int { return (len(s) + 3) / 4 }

func fnv32(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

// CompletionText extracts the assistant's text from a chat.completion body or from a
// stream of chat.completion.chunk events, for assertions.
func CompletionText(body []byte) (string, error) {
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("data:")) {
		var b strings.Builder
		for _, line := range strings.Split(string(body), "\n") {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var c provider.ChatChunk
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return "", fmt.Errorf("chunk %q: %w", data, err)
			}
			for _, ch := range c.Choices {
				if ch.Delta.Content != nil {
					b.WriteString(*ch.Delta.Content)
				}
			}
		}
		return b.String(), nil
	}
	var c provider.ChatCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		return "", err
	}
	if len(c.Choices) == 0 || c.Choices[0].Message.Content == nil {
		return "", fmt.Errorf("no content in %s", strconv.Quote(string(body)))
	}
	return *c.Choices[0].Message.Content, nil
}
