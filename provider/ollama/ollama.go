// Package ollama is the provider for Ollama's native API: POST /api/chat (a JSON body, or
// newline-delimited JSON when streaming) and POST /api/embed. It also serves Kong's
// llama2_format "ollama" and mistral_format "ollama".
//
// The upstream is model.options.upstream_url when set, else DefaultBaseURL plus the
// route's path.
package ollama

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// DefaultBaseURL is a local Ollama server.
const DefaultBaseURL = "http://localhost:11434"

// Provider speaks Ollama's native API. The zero value targets DefaultBaseURL.
type Provider struct {
	// BaseURL is the server root; empty means DefaultBaseURL. upstream_url overrides it.
	BaseURL string
	// Now is the clock for responses that carry no created_at; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

// Path returns the API path of a route type.
func Path(rt provider.RouteType) string {
	if rt == provider.Embeddings {
		return "/api/embed"
	}
	return "/api/chat"
}

type (
	chatRequest struct {
		Model     string          `json:"model"`
		Messages  []message       `json:"messages"`
		Tools     []provider.Tool `json:"tools,omitempty"`
		Format    json.RawMessage `json:"format,omitempty"`
		Options   *options        `json:"options,omitempty"`
		Stream    bool            `json:"stream"`
		KeepAlive json.RawMessage `json:"keep_alive,omitempty"`
	}
	message struct {
		Role      string     `json:"role"`
		Content   string     `json:"content"`
		Images    []string   `json:"images,omitempty"`
		ToolCalls []toolCall `json:"tool_calls,omitempty"`
		ToolName  string     `json:"tool_name,omitempty"`
	}
	toolCall struct {
		ID       string `json:"id,omitempty"`
		Function struct {
			Index     *int            `json:"index,omitempty"`
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	}
	options struct {
		NumPredict       *int     `json:"num_predict,omitempty"`
		Temperature      *float64 `json:"temperature,omitempty"`
		TopP             *float64 `json:"top_p,omitempty"`
		TopK             *int     `json:"top_k,omitempty"`
		Stop             []string `json:"stop,omitempty"`
		Seed             *int     `json:"seed,omitempty"`
		PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
		FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
	}
)

func (p Provider) url(r *provider.Request) string {
	return openai.URL(cmp.Or(p.BaseURL, DefaultBaseURL), Path(r.RouteType), r)
}

// NewRequest builds an /api/chat or /api/embed request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	var (
		body []byte
		err  error
	)
	switch r.RouteType {
	case provider.Chat:
		body, err = ChatBody(r)
	case provider.Embeddings:
		body, err = embedBody(r)
	default:
		return nil, xlate.BadRequest("", "ollama: route type "+string(r.RouteType)+" is not supported")
	}
	if err != nil {
		return nil, err
	}
	req, err := openai.NewJSONRequest(ctx, p.url(r), body, false)
	if err != nil {
		return nil, err
	}
	if r.Stream {
		req.Header["Accept"] = []string{"application/x-ndjson"}
	}
	return req, nil
}

// ChatBody translates an OpenAI chat request into an /api/chat body.
func ChatBody(r *provider.Request) ([]byte, error) {
	req, err := xlate.DecodeChat(r)
	if err != nil {
		return nil, err
	}
	out := chatRequest{Model: req.Model, Stream: r.Stream, Tools: req.Tools}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	toolNames := map[string]string{} // tool call id -> function name
	for _, m := range req.Messages {
		msg := message{Role: m.Role}
		switch m.Role {
		case "system", "developer", "user":
			if m.Role == "developer" {
				msg.Role = "system"
			}
			if m.Content.Parts == nil {
				msg.Content = m.Content.Text
				break
			}
			var text []string
			for _, part := range m.Content.Parts {
				switch part.Type {
				case "text":
					text = append(text, part.Text)
				case "image_url":
					if part.ImageURL == nil {
						return nil, xlate.BadRequest("messages", "image_url part without a url")
					}
					_, b64, ok := xlate.DataURLBase64(part.ImageURL.URL)
					if !ok {
						return nil, xlate.BadRequest("messages", "ollama takes images only as base64 data: URLs")
					}
					msg.Images = append(msg.Images, b64)
				default:
					return nil, xlate.BadRequest("messages", "ollama: content part type "+part.Type+" is not supported")
				}
			}
			msg.Content = strings.Join(text, "\n")
		case "assistant":
			msg.Content = m.Content.String()
			for _, tc := range m.ToolCalls {
				args, err := xlate.Args(tc)
				if err != nil {
					return nil, err
				}
				var c toolCall
				c.Function.Name = tc.Function.Name
				c.Function.Arguments = args
				msg.ToolCalls = append(msg.ToolCalls, c)
				toolNames[tc.ID] = tc.Function.Name
			}
		case "tool":
			msg.Content = m.Content.String()
			msg.ToolName = toolNames[m.ToolCallID]
		default:
			return nil, xlate.BadRequest("messages", "unknown message role "+strconv.Quote(m.Role))
		}
		out.Messages = append(out.Messages, msg)
	}

	o := options{NumPredict: req.MaxCompletionTokens, Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK,
		Stop: req.Stop, Seed: req.Seed, PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty}
	if o.NumPredict == nil {
		o.NumPredict = req.MaxTokens
	}
	if o.NumPredict != nil || o.Temperature != nil || o.TopP != nil || o.TopK != nil || len(o.Stop) > 0 ||
		o.Seed != nil || o.PresencePenalty != nil || o.FrequencyPenalty != nil {
		out.Options = &o
	}

	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			out.Format = json.RawMessage(`"json"`)
		case "json_schema":
			var js struct {
				Schema json.RawMessage `json:"schema"`
			}
			if err := json.Unmarshal(rf.JSONSchema, &js); err != nil || len(js.Schema) == 0 {
				return nil, xlate.BadRequest("response_format", "json_schema without a schema")
			}
			out.Format = js.Schema
		}
	}
	if len(req.Tools) > 0 {
		choice, err := xlate.ParseToolChoice(req.ToolChoice)
		if err != nil {
			return nil, err
		}
		// Ollama has no tool_choice: "none" is expressed by offering no tool, a named function
		// by offering it alone (as for Cohere); "required" cannot be expressed.
		switch choice.Mode {
		case "none":
			out.Tools = nil
		case "required":
			return nil, xlate.BadRequest("tool_choice", "ollama cannot require a tool call (it has no tool_choice)")
		case "function":
			if out.Tools, err = choice.Offered(req.Tools); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(out)
}

type chatResponse struct {
	Model     string `json:"model"`
	CreatedAt string `json:"created_at"`
	Message   struct {
		Role      string     `json:"role"`
		Content   string     `json:"content"`
		ToolCalls []toolCall `json:"tool_calls"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

func (c *chatResponse) usage() provider.Usage {
	return provider.Usage{PromptTokens: c.PromptEvalCount, CompletionTokens: c.EvalCount, TotalTokens: c.PromptEvalCount + c.EvalCount}
}

func (p Provider) created(s string) int64 {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Unix()
	}
	return xlate.Created(nil, p.Now)
}

// finishReason maps done_reason; a response that called tools finishes with tool_calls.
func finishReason(doneReason string, calledTools bool) string {
	switch {
	case calledTools:
		return xlate.ToolCalls
	case doneReason == "length":
		return xlate.Length
	default: // stop, load, unload
		return xlate.Stop
	}
}

// callID is the id of the i-th tool call of the answer created at createdAt to reqBody:
// Ollama's own, else one derived from them, unique across the conversation's turns (so that
// a tool result maps to its call) and the same on every translation.
func callID(tc *toolCall, reqBody []byte, createdAt string, i int) string {
	if tc.ID != "" {
		return tc.ID
	}
	return xlate.ID("call_", reqBody, []byte(createdAt), []byte{0}, strconv.AppendInt(nil, int64(i), 10))
}

// ParseResponse translates an /api/chat or /api/embed response.
func (p Provider) ParseResponse(r *provider.Request, _ http.Header, body []byte) (*provider.Response, error) {
	if r != nil && r.RouteType == provider.Embeddings {
		return parseEmbeddings(r, body)
	}
	var resp chatResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, xlate.BadGateway("ollama: cannot decode the chat response: " + err.Error())
	}
	if resp.Error != "" {
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: resp.Error}
	}
	var reqBody []byte
	if r != nil {
		reqBody = r.Body
	}
	var calls []provider.ToolCall
	for i := range resp.Message.ToolCalls {
		tc := &resp.Message.ToolCalls[i]
		calls = append(calls, provider.ToolCall{ID: callID(tc, reqBody, resp.CreatedAt, i), Type: "function",
			Function: provider.FunctionCall{Name: tc.Function.Name, Arguments: xlate.ArgsString(tc.Function.Arguments)}})
	}
	var content *string
	if resp.Message.Content != "" || len(calls) == 0 {
		content = &resp.Message.Content
	}
	model := resp.Model
	if model == "" {
		model = xlate.Model(r)
	}
	u := resp.usage()
	out, err := xlate.Completion(xlate.ID("chatcmpl-", reqBody, []byte(resp.CreatedAt)), model, p.created(resp.CreatedAt),
		content, calls, finishReason(resp.DoneReason, len(calls) > 0), u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Model: resp.Model, Usage: u}, nil
}

// ParseError reads Ollama's {"error": "..."} body, keeping the status (Ollama answers 503
// when its queue is full, 404 for a model it does not have, 500 when a model fails to load).
func (Provider) ParseError(_ *provider.Request, status int, header http.Header, body []byte) *provider.Error {
	return openai.ParseErrorBody(status, header, body)
}

// NewStream translates Ollama's ndjson stream into chat.completion.chunk events.
func (p Provider) NewStream(r *provider.Request, _ http.Header, body io.Reader) provider.Stream {
	s := &stream{lr: xlate.NewLineReader(body), p: p, model: xlate.Model(r)}
	if r != nil {
		s.includeUsage = chunk.IncludeUsage(r.Body)
		s.reqBody = r.Body
	}
	return s
}

type stream struct {
	lr           *xlate.LineReader
	p            Provider
	w            *chunk.Writer // made at the first record
	q            chunk.Loop
	model        string
	includeUsage bool
	usage        provider.Usage
	reqBody      []byte
	createdAt    string // the first record's, for tool call ids
	tools        int
	rec          chatResponse
}

func (s *stream) Usage() provider.Usage { return s.usage }

func (s *stream) Next() ([]byte, error) {
	return s.q.Next(s, "ollama: the stream ended before its done record")
}

// Step reads and translates one record.
func (s *stream) Step() error {
	line, err := s.lr.Next()
	if err == io.EOF {
		return err
	}
	if err != nil {
		return xlate.BadGateway("ollama: reading the stream: " + err.Error())
	}
	if s.textLine(line) {
		return nil
	}
	return s.line(line)
}

// textLine translates the commonest record, a text delta once the stream has started,
// without a decode; it reports false for any other record, which line then decodes.
func (s *stream) textLine(line []byte) bool {
	if s.w == nil {
		return false
	}
	var done, msg, content []byte
	plain := true
	if jsonx.Object(line, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "done":
			done = m.Value
		case "message":
			msg = m.Value
		case "error":
			plain = false
		}
		return plain
	}) != nil || !plain || string(done) != "false" || msg == nil {
		return false
	}
	if jsonx.Object(msg, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "content":
			content = m.Value
		case "tool_calls":
			plain = false
		}
		return plain
	}) != nil || !plain || (content != nil && content[0] != '"') {
		return false
	}
	if len(content) > 2 {
		s.q.Push(s.w.TextRaw(s.q.Buf(), content))
	}
	return true
}

func (s *stream) line(line []byte) error {
	s.rec = chatResponse{}
	if err := json.Unmarshal(line, &s.rec); err != nil {
		return xlate.BadGateway("ollama: cannot decode a stream line: " + err.Error())
	}
	rec := &s.rec
	if rec.Error != "" {
		return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: rec.Error}
	}
	if s.w == nil {
		model := rec.Model // the model Ollama says served, as ParseResponse reports it
		if model == "" {
			model = s.model
		}
		s.createdAt = rec.CreatedAt
		s.w = chunk.NewWriter(xlate.ID("chatcmpl-", s.reqBody), model, s.p.created(rec.CreatedAt))
		s.q.Push(s.w.Role(s.q.Buf()))
	}
	if rec.Message.Content != "" {
		s.q.Push(s.w.Text(s.q.Buf(), rec.Message.Content))
	}
	for i := range rec.Message.ToolCalls {
		tc := &rec.Message.ToolCalls[i]
		args := jsonx.AppendString(nil, xlate.ArgsString(tc.Function.Arguments))
		s.q.Push(s.w.ToolStart(s.q.Buf(), s.tools, callID(tc, s.reqBody, s.createdAt, s.tools), tc.Function.Name, args, nil))
		s.tools++
	}
	if rec.Done {
		s.q.Done()
		s.usage = rec.usage()
		s.q.Push(s.w.Finish(s.q.Buf(), finishReason(rec.DoneReason, s.tools > 0)))
		if s.includeUsage {
			s.q.Push(s.w.Usage(s.q.Buf(), s.usage))
		}
	}
	return nil
}
