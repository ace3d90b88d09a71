package aiproxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/aiproxy/aiproxy/aiproxytest"
)

// anthropicFake is a fake of Anthropic's Messages API (POST /v1/messages), written from its
// API reference: the x-api-key and anthropic-version headers, the message object, the
// streamed events (message_start, content_block_start, ping, content_block_delta with
// text_delta or input_json_delta, content_block_stop, message_delta, message_stop), the
// request-id and anthropic-ratelimit-* headers, and {"type":"error","error":{...}} errors.
//
// It answers "Hello from <model>", or, when the request offers tools and its last message
// is not a tool result, a tool_use of the first tool with the input {"city":"Paris"}.
type anthropicFake struct {
	*httptest.Server
	apiKey string

	mu       sync.Mutex
	requests []aiproxytest.Request
	fail     []int // statuses to answer the next requests with
}

func newAnthropicFake() *anthropicFake {
	f := &anthropicFake{apiKey: "sk-ant-fake"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *anthropicFake) Requests() []aiproxytest.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]aiproxytest.Request(nil), f.requests...)
}

// Fail makes the next n requests fail with status.
func (f *anthropicFake) Fail(status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fail = append(f.fail, status)
	}
}

var anthropicErrorTypes = map[int]string{400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
	429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}

func anthropicError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q}}`, anthropicErrorTypes[status], msg)
}

// countTokens answers POST /v1/messages/count_tokens: {"input_tokens": N}, N being the
// number of words in the request (a fake's count), refusing the fields the endpoint does not
// take, as Anthropic does.
func (f *anthropicFake) countTokens(w http.ResponseWriter, body []byte) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req["model"] == nil || req["messages"] == nil {
		anthropicError(w, 400, "model and messages are required")
		return
	}
	for _, k := range []string{"max_tokens", "stream", "temperature"} {
		if req[k] != nil {
			anthropicError(w, 400, k+": Extra inputs are not permitted")
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"input_tokens":%d}`, len(strings.Fields(string(req["messages"]))))
}

func (f *anthropicFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, aiproxytest.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	fail := 0
	if len(f.fail) > 0 {
		fail, f.fail = f.fail[0], f.fail[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Request-Id", "req_fake")
	w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "99")
	switch {
	case fail != 0:
		anthropicError(w, fail, "Overloaded")
		return
	case r.URL.Path != "/v1/messages" && r.URL.Path != "/v1/messages/count_tokens" || r.Method != http.MethodPost:
		anthropicError(w, 404, "Not found")
		return
	case r.Header.Get("X-Api-Key") != f.apiKey:
		anthropicError(w, 401, "invalid x-api-key")
		return
	case r.Header.Get("Anthropic-Version") == "":
		anthropicError(w, 400, "anthropic-version: header is required")
		return
	case r.URL.Path == "/v1/messages/count_tokens":
		f.countTokens(w, body)
		return
	}
	var req struct {
		Model     string `json:"model"`
		MaxTokens *int   `json:"max_tokens"`
		Stream    bool   `json:"stream"`
		Messages  []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" || req.MaxTokens == nil || len(req.Messages) == 0 {
		anthropicError(w, 400, "model, max_tokens and messages are required")
		return
	}
	tool := ""
	if len(req.Tools) > 0 && !strings.Contains(string(req.Messages[len(req.Messages)-1].Content), `"tool_result"`) {
		tool = req.Tools[0].Name
	}
	text := "Hello from " + req.Model
	if !req.Stream {
		block := fmt.Sprintf(`{"type":"text","text":%q}`, text)
		stop := "end_turn"
		if tool != "" {
			block, stop = fmt.Sprintf(`{"type":"tool_use","id":"toolu_01","name":%q,"input":{"city":"Paris"}}`, tool), "tool_use"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_01","type":"message","role":"assistant","model":%q,"content":[%s],"stop_reason":%q,"stop_sequence":null,`+
			`"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":3,"output_tokens":5}}`, req.Model, block, stop)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	event := func(name, data string) {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		w.(http.Flusher).Flush()
	}
	event("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":%q,`+
		`"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":3,"output_tokens":1}}}`, req.Model))
	stop := "end_turn"
	if tool != "" {
		stop = "tool_use"
		event("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01","name":%q,"input":{}}}`, tool))
		event("ping", `{"type": "ping"}`)
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}`)
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`)
	} else {
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		event("ping", `{"type": "ping"}`)
		for _, word := range strings.SplitAfter(text, " ") {
			event("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%q}}`, word))
		}
	}
	event("content_block_stop", `{"type":"content_block_stop","index":0}`)
	event("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%q,"stop_sequence":null},"usage":{"output_tokens":5}}`, stop))
	event("message_stop", `{"type":"message_stop"}`)
}
