// Package openai is the provider for OpenAI's API and every upstream that speaks its wire
// format: Mistral with mistral_format "openai", vLLM, Ollama's /v1, LM Studio and the like,
// reached through model.options.upstream_url.
//
// Requests and responses pass through unchanged; the provider only reads usage and model,
// and translates error bodies.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// DefaultBaseURL is OpenAI's API root.
const DefaultBaseURL = "https://api.openai.com/v1"

// Provider speaks OpenAI's API. The zero value targets DefaultBaseURL.
type Provider struct {
	// BaseURL is the API root that route paths are appended to; empty means DefaultBaseURL.
	// model.options.upstream_url, when set, is used as the whole URL instead.
	BaseURL string
	// TopK says the upstream takes a top_k parameter (vLLM, Databricks, DashScope do;
	// OpenAI does not): model.options.top_k is then added to chat bodies that have none.
	TopK bool
	// OmitModel says the upstream serves one model and takes no "model" member (a Vertex AI
	// endpoint): it is removed from the body.
	OmitModel bool
}

var _ provider.Provider = Provider{}

// Path returns the API path of a route type, relative to the API root.
func Path(rt provider.RouteType) string {
	switch rt {
	case provider.Completions:
		return "/completions"
	case provider.Embeddings:
		return "/embeddings"
	default:
		return "/chat/completions"
	}
}

// URL returns the upstream URL of r, for every provider: options.upstream_url if set, else
// base + path, with options.upstream_path replacing path when set.
func URL(base, path string, r *provider.Request) string {
	o := r.Model.Options
	if o.UpstreamURL != "" {
		return withPath(o.UpstreamURL, strings.TrimSuffix(base, "/")+path)
	}
	if o.UpstreamPath != "" {
		path = "/" + strings.TrimPrefix(o.UpstreamPath, "/")
	}
	return strings.TrimSuffix(base, "/") + path
}

// withPath returns u, or, when u names only a host (no path, or "/"), u with the path of the
// provider's default URL def, as Kong appends the provider's path to such an upstream_url
// (its Ollama example's http://ollama-server.local:11434 posts to /api/chat).
func withPath(u, def string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexAny(u[i+3:], "/?#"); j >= 0 && u[i+3+j:] != "/" {
			return u // a path (or a query): the usual case, without parsing
		}
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" || parsed.Path != "" && parsed.Path != "/" {
		return u
	}
	d, err := url.Parse(def)
	if err != nil {
		return u
	}
	parsed.Path = d.Path
	return parsed.String()
}

// NewRequest posts r.Body to the upstream.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	base := p.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return NewJSONRequest(ctx, URL(base, Path(r.RouteType), r), p.Body(r), r.Stream)
}

// Body returns the body to send for r: r.Body, with model.options.top_k added when p.TopK
// is set and the client's chat request has no top_k, without "model" when p.OmitModel is set.
func (p Provider) Body(r *provider.Request) []byte {
	k := r.Model.Options.TopK
	topK := p.TopK && k != nil && r.RouteType == provider.Chat
	if !topK && !p.OmitModel || jsonx.Object(r.Body, func(jsonx.Member) bool { return false }) != nil {
		return r.Body // nothing to change, or not an object: the upstream answers for it
	}
	b := r.Body
	if topK {
		edit := []jsonx.Edit{{Key: "top_k", Value: strconv.AppendInt(nil, int64(*k), 10), OnlyIfAbsent: true}}
		b = jsonx.Apply(make([]byte, 0, len(b)+16), b, edit)
	}
	if p.OmitModel {
		b = jsonx.Without(make([]byte, 0, len(b)), b, "model")
	}
	return b
}

// NewJSONRequest returns a POST of body with JSON content headers; with stream it accepts
// an event stream.
func NewJSONRequest(ctx context.Context, url string, body []byte, stream bool) (*http.Request, error) {
	// A *bytes.Reader body, which net/http knows is in memory, is sent with its headers in
	// one write (any other body type makes the transport flush the headers first).
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	values := &[2]string{"application/json", accept} // one allocation for both headers
	req.Header["Content-Type"], req.Header["Accept"] = values[0:1:1], values[1:2:2]
	return req, nil
}

// ParseResponse returns body unchanged, with the model and usage it reports.
func (Provider) ParseResponse(_ *provider.Request, _ http.Header, body []byte) (*provider.Response, error) {
	resp := &provider.Response{Body: body}
	err := jsonx.Object(body, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "model":
			resp.Model, _ = jsonx.String(m.Value)
		case "usage":
			if string(m.Value) != "null" {
				_ = resp.Usage.UnmarshalJSON(m.Value)
			}
		}
		return true
	})
	if err != nil {
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "the upstream returned a body that is not a JSON object: " + err.Error()}
	}
	return resp, nil
}

// ParseError reads OpenAI's {"error":{...}} body; any other body becomes the message.
func (Provider) ParseError(_ *provider.Request, status int, header http.Header, body []byte) *provider.Error {
	return ParseErrorBody(status, header, body)
}

// ParseErrorBody translates an error response in OpenAI's format (which many providers
// share) into a provider.Error, keeping the upstream's status.
func ParseErrorBody(status int, header http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status, Type: provider.ErrorType(status), RetryAfter: provider.RetryAfter(header, time.Now())}
	var doc struct {
		Error json.RawMessage `json:"error"`
		// Some OpenAI-compatible servers answer {"message": ..., "type": ...} or {"detail": ...}.
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &doc) == nil {
		var inner struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Param   *string         `json:"param"`
			Code    json.RawMessage `json:"code"`
		}
		switch {
		case len(doc.Error) > 0 && doc.Error[0] == '{' && json.Unmarshal(doc.Error, &inner) == nil:
			e.Message = inner.Message
			if inner.Type != "" {
				e.Type = inner.Type
			}
			if inner.Param != nil {
				e.Param = *inner.Param
			}
			e.Code = rawCode(inner.Code)
		case len(doc.Error) > 0 && doc.Error[0] == '"':
			_ = json.Unmarshal(doc.Error, &e.Message)
		case doc.Message != "":
			e.Message = doc.Message
		case len(doc.Detail) > 0:
			e.Message = strings.Trim(string(doc.Detail), `"`)
		}
	}
	if e.Message == "" {
		e.Message = Snippet(body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" { // a status without a standard text, e.g. 529
		e.Message = "upstream status " + strconv.Itoa(status)
	}
	return e
}

// rawCode renders a code that may be a string, a number or null.
func rawCode(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// Snippet returns the start of a non-JSON error body, for a message.
func Snippet(body []byte) string {
	const max = 512
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "")
}

// NewStream passes OpenAI's chunks through, reading usage from the chunk that has it.
func (Provider) NewStream(_ *provider.Request, _ http.Header, body io.Reader) provider.Stream {
	return &stream{r: sse.NewReader(body)}
}

type stream struct {
	r        *sse.Reader
	usage    provider.Usage
	finished bool // a chunk carried a finish_reason
}

// Ready reports whether the next event has arrived (provider.Ready).
func (s *stream) Ready() bool { return s.r.Ready() }

var (
	usageKey  = []byte(`"usage"`)
	errorKey  = []byte(`"error"`)
	finishKey = []byte(`"finish_reason"`)
)

func (s *stream) Next() ([]byte, error) {
	for {
		ev, err := s.r.Next()
		if err == io.EOF && !s.finished {
			// Neither [DONE] nor a finish_reason: the upstream was cut off, not done.
			return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
				Message: "the upstream stream ended before a finish_reason or data: [DONE]"}
		}
		if err != nil {
			return nil, err
		}
		data := bytes.TrimSpace(ev.Data)
		if bytes.Equal(data, sse.Done) {
			return nil, io.EOF
		}
		if len(data) == 0 {
			continue
		}
		if data[0] != '{' || !json.Valid(data) {
			return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
				Message: "the upstream stream sent an event that is not a JSON object: " + Snippet(data)}
		}
		if bytes.Contains(data, usageKey) || bytes.Contains(data, errorKey) {
			if e := s.inspect(data); e != nil {
				return nil, e
			}
		}
		if !s.finished {
			s.finished = hasFinish(data)
		}
		return data, nil
	}
}

// hasFinish reports whether a chunk has a finish_reason that is not null.
func hasFinish(data []byte) bool {
	for {
		i := bytes.Index(data, finishKey)
		if i < 0 {
			return false
		}
		data = bytes.TrimLeft(data[i+len(finishKey):], " \t\r\n")
		if len(data) > 0 && data[0] == ':' {
			data = bytes.TrimLeft(data[1:], " \t\r\n")
			if len(data) > 0 && data[0] == '"' {
				return true
			}
		}
	}
}

// inspect reads usage from a chunk, and returns an error event as an error.
func (s *stream) inspect(data []byte) *provider.Error {
	var e *provider.Error
	_ = jsonx.Object(data, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "usage":
			if string(m.Value) != "null" {
				_ = s.usage.UnmarshalJSON(m.Value)
			}
		case "error":
			if string(m.Value) != "null" {
				e = ParseErrorBody(http.StatusBadGateway, nil, data)
			}
		}
		return true
	})
	return e
}

func (s *stream) Usage() provider.Usage { return s.usage }
