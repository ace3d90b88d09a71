// Package xlate holds what the native translators share besides writing chunks (package
// chunk): the decoding of the OpenAI request (messages, tool choice, tool call arguments,
// data: URLs, embeddings inputs), deterministic ids, OpenAI-format bodies and errors, and
// the readers of ndjson lines and raw JSON values on hot stream paths.
package xlate

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
)

// Finish reasons of OpenAI.
const (
	Stop          = "stop"
	Length        = "length"
	ToolCalls     = "tool_calls"
	ContentFilter = "content_filter"
)

// ID returns prefix + a short hash of parts: an id that is the same on every retry.
func ID(prefix string, parts ...[]byte) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write(p)
	}
	return prefix + strconv.FormatUint(h.Sum64(), 36)
}

// Created returns the Unix time of a response: its Date header if it has one, else now().
func Created(h http.Header, now func() time.Time) int64 {
	if d := h.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			return t.Unix()
		}
	}
	return Now(now)
}

// Now returns the Unix time now() gives, or time.Now's when now is nil.
func Now(now func() time.Time) int64 {
	if now == nil {
		return time.Now().Unix()
	}
	return now().Unix()
}

// DataURL splits a data: URL with base64 data into its media type and decoded bytes.
func DataURL(u string) (mediaType string, data []byte, ok bool) {
	mediaType, b64, ok := DataURLBase64(u)
	if !ok {
		return "", nil, false
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, false
	}
	return mediaType, data, true
}

// DataURLBase64 is DataURL without decoding: the media type and the base64 payload.
func DataURLBase64(u string) (mediaType, b64 string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, payload, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mediaType, isB64 := strings.CutSuffix(meta, ";base64")
	return mediaType, payload, isB64
}

// BadRequest is a 400 error for a request the upstream cannot express.
func BadRequest(param, msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: msg}
}

// BadGateway is a 502 error for an upstream answer that cannot be translated.
func BadGateway(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: msg}
}

// InsufficientQuota gives e OpenAI's own shape for an exhausted quota or balance: status 429,
// type and code insufficient_quota (the body OpenAI answers when an account is out of
// credit). Upstream answers that mean "no credit left" (402 Payment Required, Anthropic's
// billing_error, Bedrock's ServiceQuotaExceededException) all take it, so that a client
// sees one error whatever the provider and failover on 429 moves on. It returns e.
func InsufficientQuota(e *provider.Error) *provider.Error {
	e.Status, e.Type, e.Code = http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota"
	return e
}

// DecodeChat decodes r's OpenAI chat request. model.options.top_k fills in a top_k the
// client left out: the proxy applies the other model.options defaults to every body, but
// top_k only reaches the translators whose upstream takes it.
func DecodeChat(r *provider.Request) (*provider.ChatRequest, error) {
	var req provider.ChatRequest
	if err := json.Unmarshal(r.Body, &req); err != nil {
		return nil, BadRequest("", "the request is not a valid chat completion request: "+err.Error())
	}
	if req.TopK == nil {
		req.TopK = r.Model.Options.TopK
	}
	return &req, nil
}

// EmbeddingsRequest is an OpenAI embeddings request as the native translators take it.
type EmbeddingsRequest struct {
	// Inputs are the texts: input, a string or an array of strings (token arrays are
	// refused). Single says input was one string.
	Inputs []string
	Single bool
	// Model is the target's model name, else the request's.
	Model string
	// Dimensions is the request's dimensions, else model.options.embeddings_dimensions.
	Dimensions *int
}

// DecodeEmbeddings decodes r's OpenAI embeddings request.
func DecodeEmbeddings(r *provider.Request) (*EmbeddingsRequest, error) {
	var in provider.EmbeddingRequest
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, BadRequest("", "the request is not a valid embeddings request: "+err.Error())
	}
	out := &EmbeddingsRequest{Model: cmp.Or(r.Model.Name, in.Model), Dimensions: in.Dimensions}
	if out.Dimensions == nil {
		out.Dimensions = r.Model.Options.EmbeddingsDimensions
	}
	raw := bytes.TrimSpace(in.Input)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, BadRequest("input", "input must be a string or an array of strings")
		}
		out.Inputs, out.Single = []string{s}, true
		return out, nil
	}
	if err := json.Unmarshal(raw, &out.Inputs); err != nil || len(out.Inputs) == 0 {
		return nil, BadRequest("input", "input must be a string or a non-empty array of strings")
	}
	return out, nil
}

// ToolChoice is an OpenAI tool_choice: Mode is "auto", "none", "required", or "function"
// with Name set.
type ToolChoice struct {
	Mode string
	Name string
}

// ParseToolChoice decodes tool_choice; an absent one is the zero value. A mode other than
// auto, none, required or a function is a 400.
func ParseToolChoice(raw json.RawMessage) (ToolChoice, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ToolChoice{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return ToolChoice{}, BadRequest("tool_choice", "invalid tool_choice")
		}
		switch s {
		case "auto", "none", "required":
			return ToolChoice{Mode: s}, nil
		}
		return ToolChoice{}, BadRequest("tool_choice", "tool_choice "+strconv.Quote(s)+" is not supported: auto, none, required or a function")
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Function.Name == "" {
		return ToolChoice{}, BadRequest("tool_choice", "invalid tool_choice")
	}
	return ToolChoice{Mode: "function", Name: obj.Function.Name}, nil
}

// Offered returns the tools to declare upstream for c: for a named function only that one
// (upstreams that cannot force a given function offer it alone), else all of them. A named
// function that is not among the tools is a 400.
func (c ToolChoice) Offered(tools []provider.Tool) ([]provider.Tool, error) {
	if c.Mode != "function" {
		return tools, nil
	}
	for _, t := range tools {
		if t.Function.Name == c.Name {
			return []provider.Tool{t}, nil
		}
	}
	return nil, BadRequest("tool_choice", "tool_choice names "+strconv.Quote(c.Name)+", which is not in tools")
}

// Args returns a tool call's arguments as the JSON object that native APIs take for a call's
// input: "" becomes {}; anything but an object (an array, a string, invalid JSON) is a 400.
func Args(tc provider.ToolCall) (json.RawMessage, error) {
	s := strings.TrimSpace(tc.Function.Arguments)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if s[0] != '{' || !json.Valid([]byte(s)) {
		return nil, BadRequest("messages", "tool call "+strconv.Quote(tc.ID)+" arguments are not a JSON object")
	}
	return json.RawMessage(s), nil
}

// ArgsString renders a native call's input as OpenAI's arguments string: compact JSON; "{}"
// when absent, null or invalid; a JSON string's own text (some models answer with the
// arguments as a string).
func ArgsString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "{}"
	}
	return b.String()
}

// JSONInstruction is the system-prompt instruction that stands in for OpenAI's JSON mode on
// upstreams without one (Anthropic's Messages API, Bedrock's Converse): for response_format
// json_object or json_schema (with its schema), else "".
func JSONInstruction(rf *provider.ResponseFormat) string {
	if rf == nil || (rf.Type != "json_object" && rf.Type != "json_schema") {
		return ""
	}
	s := "Respond with a single valid JSON object and nothing else: no prose, no code fences."
	if rf.Type == "json_schema" && len(rf.JSONSchema) > 0 {
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if json.Unmarshal(rf.JSONSchema, &js) == nil && len(js.Schema) > 0 {
			var buf bytes.Buffer
			if json.Compact(&buf, js.Schema) == nil {
				s += " The object must conform to this JSON Schema: " + buf.String()
			}
		}
	}
	return s
}

// Completion builds a one-choice chat.completion body.
func Completion(id, model string, created int64, content *string, calls []provider.ToolCall, finish string, u provider.Usage) ([]byte, error) {
	c := provider.ChatCompletion{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []provider.Choice{{Message: provider.ResponseMessage{Role: "assistant", Content: content, ToolCalls: calls}, FinishReason: finish}},
		Usage:   &u,
	}
	return json.Marshal(c)
}

// Embeddings builds an OpenAI embeddings list.
func Embeddings(model string, vecs [][]float32, u provider.Usage) ([]byte, error) {
	r := provider.EmbeddingResponse{Object: "list", Model: model, Usage: u, Data: make([]provider.Embedding, len(vecs))}
	for i, v := range vecs {
		if v == nil {
			v = []float32{}
		}
		r.Data[i] = provider.Embedding{Object: "embedding", Index: i, Embedding: v}
	}
	return json.Marshal(r)
}

// Limit caps what a translator reads from a stream line or frame.
const Limit = 4 << 20

// Model returns the target's model name, else the request body's "model".
func Model(r *provider.Request) string {
	if r == nil {
		return ""
	}
	if r.Model.Name != "" {
		return r.Model.Name
	}
	var model string
	_ = json.Unmarshal(Lookup(r.Body, "model"), &model)
	return model
}

// ErrLineTooLong is returned by LineReader for a line above Limit.
var ErrLineTooLong = errors.New("stream line exceeds the size limit")

// LineReader reads newline-delimited records (ndjson), however the reads split them.
type LineReader struct {
	r    *bufio.Reader
	line []byte
}

// NewLineReader returns a LineReader on r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 4096)}
}

// Next returns the next non-blank line without its terminator, valid until the next call,
// or io.EOF. A last line without a newline is returned too.
func (l *LineReader) Next() ([]byte, error) {
	for {
		l.line = l.line[:0]
		for {
			frag, err := l.r.ReadSlice('\n')
			if len(l.line)+len(frag) > Limit {
				return nil, ErrLineTooLong
			}
			l.line = append(l.line, frag...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			if err == io.EOF && len(bytes.TrimSpace(l.line)) == 0 {
				return nil, io.EOF
			}
			break
		}
		if line := bytes.TrimSpace(l.line); len(line) > 0 {
			return line, nil
		}
	}
}

// Lookup returns the raw value at the path of member names in the JSON object b, or nil if
// there is none (or b is not valid JSON). It decodes nothing, for hot stream paths.
func Lookup(b []byte, keys ...string) []byte {
	for _, k := range keys {
		var found []byte
		if jsonx.Object(b, func(m jsonx.Member) bool {
			if string(m.Key) == k {
				found = m.Value
				return false
			}
			return true
		}) != nil || found == nil {
			return nil
		}
		b = found
	}
	return b
}

// Atoi parses a raw JSON number that is a non-negative integer of at most 9 digits (an
// index, a token count), without allocating; ok is false for anything else.
func Atoi(raw []byte) (n int, ok bool) {
	if len(raw) == 0 || len(raw) > 9 {
		return 0, false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
