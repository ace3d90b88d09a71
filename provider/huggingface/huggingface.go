// Package huggingface is the provider for Hugging Face: chat through the OpenAI-compatible
// router (https://router.huggingface.co/v1/chat/completions, which also serves TGI's
// Messages API on Inference Endpoints at upstream_url), and embeddings through the
// hf-inference feature-extraction task.
//
// options.huggingface.use_cache and wait_for_model are sent as the x-use-cache and
// x-wait-for-model headers, which is how the current Inference API takes them. A model
// that is still loading answers 503, which stays 503 (a failover status).
package huggingface

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Default endpoints.
const (
	DefaultChatBaseURL = "https://router.huggingface.co/v1"
	// DefaultEmbeddingsBaseURL is followed by /{model}/pipeline/feature-extraction.
	DefaultEmbeddingsBaseURL = "https://router.huggingface.co/hf-inference/models"
)

// Provider speaks Hugging Face's APIs. The zero value uses the default endpoints.
type Provider struct {
	// ChatBaseURL replaces DefaultChatBaseURL; upstream_url overrides both.
	ChatBaseURL string
	// EmbeddingsBaseURL replaces DefaultEmbeddingsBaseURL; upstream_url overrides both.
	EmbeddingsBaseURL string
}

var _ provider.Provider = Provider{}

func (p Provider) chat() openai.Provider {
	base := p.ChatBaseURL
	if base == "" {
		base = DefaultChatBaseURL
	}
	return openai.Provider{BaseURL: base}
}

func setOptionHeaders(req *http.Request, o *provider.HuggingfaceOptions) {
	if o == nil {
		return
	}
	if o.UseCache != nil {
		req.Header["X-Use-Cache"] = []string{strconv.FormatBool(*o.UseCache)}
	}
	if o.WaitForModel != nil {
		req.Header["X-Wait-For-Model"] = []string{strconv.FormatBool(*o.WaitForModel)}
	}
}

// NewRequest builds a chat completions request (the body passes through) or a
// feature-extraction request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	var (
		req *http.Request
		err error
	)
	switch r.RouteType {
	case provider.Chat, provider.Completions:
		req, err = p.chat().NewRequest(ctx, r)
	case provider.Embeddings:
		req, err = p.embedRequest(ctx, r)
	default:
		return nil, xlate.BadRequest("", "huggingface: route type "+string(r.RouteType)+" is not supported")
	}
	if err != nil {
		return nil, err
	}
	setOptionHeaders(req, r.Model.Options.Huggingface)
	return req, nil
}

func (p Provider) embedRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	in, err := xlate.DecodeEmbeddings(r)
	if err != nil {
		return nil, err
	}
	model := in.Model
	u := r.Model.Options.UpstreamURL
	if u == "" {
		if model == "" {
			return nil, xlate.BadRequest("model", "huggingface: no model")
		}
		// A model id is owner/name: keep its slash, escape the rest.
		parts := strings.Split(model, "/")
		for i := range parts {
			parts[i] = url.PathEscape(parts[i])
		}
		u = openai.URL(cmp.Or(p.EmbeddingsBaseURL, DefaultEmbeddingsBaseURL), "/"+strings.Join(parts, "/")+"/pipeline/feature-extraction", r)
	}
	body, err := json.Marshal(struct {
		Inputs []string `json:"inputs"`
	}{in.Inputs})
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, u, body, false)
}

// ParseResponse returns a chat body unchanged (with its usage), or translates a
// feature-extraction answer (one pooled vector per input) into an embeddings list.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	if r == nil || r.RouteType != provider.Embeddings {
		resp, err := p.chat().ParseResponse(r, h, body)
		if err != nil {
			return nil, err
		}
		resp.Body = fillID(resp.Body, func() string { return xlate.ID("chatcmpl-", reqBody(r), body) })
		return resp, nil
	}
	var vecs [][]float32
	if err := json.Unmarshal(body, &vecs); err != nil {
		var one []float32
		if json.Unmarshal(body, &one) != nil {
			return nil, xlate.BadGateway("huggingface: the feature-extraction answer is not one vector per input " +
				"(a model without pooling returns token vectors, which are not sentence embeddings)")
		}
		vecs = [][]float32{one}
	}
	model := xlate.Model(r)
	out, err := xlate.Embeddings(model, vecs, provider.Usage{})
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out}, nil
}

// ParseError reads Hugging Face's {"error": "..."} (Inference API) or OpenAI-style
// {"error": {...}} (router) bodies, keeping the status.
func (Provider) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	e := openai.ParseErrorBody(status, h, body)
	if status == http.StatusServiceUnavailable && strings.Contains(e.Message, "currently loading") {
		e.Code = "model_loading"
	}
	return e
}

// NewStream passes the router's OpenAI-format chunks through.
func (p Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	return &stream{Stream: p.chat().NewStream(r, h, body), r: r}
}

// stream gives the chunks of servers that send "id":"" (TGI's Messages API does) one id,
// derived from the request, the same on every chunk and every retry.
type stream struct {
	provider.Stream
	r  *provider.Request
	id string
}

func (s *stream) Next() ([]byte, error) {
	b, err := s.Stream.Next()
	if err != nil {
		return b, err
	}
	return fillID(b, func() string {
		if s.id == "" {
			s.id = xlate.ID("chatcmpl-", reqBody(s.r))
		}
		return s.id
	}), nil
}

func reqBody(r *provider.Request) []byte {
	if r == nil {
		return nil
	}
	return r.Body
}

// fillID sets the top-level "id" of a JSON object when it is empty, null or missing (a tool
// call's own "id" does not count), as OpenAI's clients expect one; other bodies are returned
// unchanged.
func fillID(b []byte, id func() string) []byte {
	missing := true
	if jsonx.Object(b, func(m jsonx.Member) bool {
		if string(m.Key) != "id" {
			return true
		}
		missing = string(m.Value) == `""` || string(m.Value) == "null"
		return false
	}) != nil || !missing {
		return b
	}
	return jsonx.Apply(make([]byte, 0, len(b)+32), b, []jsonx.Edit{{Key: "id", Value: jsonx.AppendString(nil, id())}})
}
