// Package mistral is the provider for Mistral models in Kong's two mistral_format values:
// "openai" (Mistral's La Plateforme API, https://api.mistral.ai/v1, or any OpenAI-compatible
// server at upstream_url) and "ollama" (Ollama's native API at upstream_url).
package mistral

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/ollama"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// DefaultBaseURL is Mistral's API root.
const DefaultBaseURL = "https://api.mistral.ai/v1"

// Provider selects the translator of options.mistral_format; empty means "openai".
type Provider struct {
	// Now is the clock for ollama responses without created_at; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

func (p Provider) target(r *provider.Request) provider.Provider {
	if r != nil && r.Model.Options.MistralFormat == "ollama" {
		return ollama.Provider{Now: p.Now}
	}
	return openai.Provider{BaseURL: DefaultBaseURL}
}

// NewRequest builds the request of the configured format.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	switch f := r.Model.Options.MistralFormat; f {
	case "", "openai":
	case "ollama":
		if r.Model.Options.UpstreamURL == "" {
			return nil, xlate.BadRequest("", "mistral: mistral_format ollama needs model.options.upstream_url")
		}
	default:
		return nil, xlate.BadRequest("", "mistral: unknown mistral_format "+f)
	}
	if r.Model.Options.MistralFormat != "ollama" && bytes.Contains(r.Body, streamOptionsKey) {
		// Mistral's API refuses fields it does not know (422 extra_forbidden), stream_options
		// among them; its stream reports usage anyway, and stream turns that into OpenAI's
		// usage chunk when the client asked for it.
		rr := *r
		rr.Body = withoutMember(r.Body, "stream_options")
		r = &rr
	}
	return p.target(r).NewRequest(ctx, r)
}

// withoutMember returns the JSON object body without its top-level member key.
func withoutMember(body []byte, key string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m[key]; !ok {
		return body
	}
	delete(m, key)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// ParseResponse translates the configured format's response.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	resp, err := p.target(r).ParseResponse(r, h, body)
	if err == nil && (r == nil || r.Model.Options.MistralFormat != "ollama") && bytes.Contains(resp.Body, modelLength) {
		resp.Body = bytes.ReplaceAll(resp.Body, modelLength, []byte(`"finish_reason":"length"`))
	}
	return resp, err
}

// ParseError translates the configured format's error.
func (p Provider) ParseError(r *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return p.target(r).ParseError(r, status, h, body)
}

// NewStream translates the configured format's stream.
func (p Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	s := p.target(r).NewStream(r, h, body)
	if r != nil && r.Model.Options.MistralFormat == "ollama" {
		return s
	}
	return &stream{Stream: s, includeUsage: xlate.IncludeUsage(r.Body)}
}

// stream puts Mistral's chunks in OpenAI's order: Mistral sends usage in the chunk that
// carries finish_reason (and whether or not the client asked), OpenAI in a chunk of its own,
// with no choices, last, and only with stream_options.include_usage. Mistral's
// finish_reason "model_length" (the context is full) is OpenAI's "length".
type stream struct {
	provider.Stream
	includeUsage bool
	pending      []byte // the usage chunk, sent after the last chunk
	done         bool
}

func (s *stream) Next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	b, err := s.Stream.Next()
	if err == io.EOF && s.pending != nil {
		out := s.pending
		s.pending, s.done = nil, true
		return out, nil
	}
	if err != nil {
		return b, err
	}
	if !bytes.Contains(b, usageKey) && !bytes.Contains(b, modelLength) {
		return b, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b, nil
	}
	changed := false
	if c, ok := m["choices"]; ok && bytes.Contains(c, modelLength) {
		m["choices"] = bytes.ReplaceAll(c, modelLength, []byte(`"finish_reason":"length"`))
		changed = true
	}
	if u, ok := m["usage"]; ok && string(u) != "null" && string(m["choices"]) != "[]" {
		delete(m, "usage")
		changed = true
		if s.includeUsage {
			um := map[string]json.RawMessage{"usage": u, "choices": json.RawMessage("[]")}
			for _, k := range []string{"id", "object", "created", "model"} {
				if v, ok := m[k]; ok {
					um[k] = v
				}
			}
			s.pending, _ = json.Marshal(um)
		}
	}
	if !changed {
		return b, nil
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b, nil
	}
	return out, nil
}

var (
	streamOptionsKey = []byte(`"stream_options"`)
	usageKey         = []byte(`"usage"`)
	modelLength      = []byte(`"finish_reason":"model_length"`)
)
