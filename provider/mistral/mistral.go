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
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
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
	if r.Model.Options.MistralFormat != "ollama" && (bytes.Contains(r.Body, streamOptionsKey) || bytes.Contains(r.Body, extraContentKey) || bytes.Contains(r.Body, maxCompletionKey)) {
		rr := *r
		rr.Body = withoutUnknown(r.Body)
		r = &rr
	}
	return p.target(r).NewRequest(ctx, r)
}

// withoutUnknown removes from an OpenAI chat body the fields that Mistral's API refuses (422
// extra_forbidden: it takes no field it does not know): stream_options (Mistral's stream
// reports usage anyway, and stream turns it into OpenAI's usage chunk when the client asked),
// the extra_content of tool calls (Gemini's thought signatures, of no use to Mistral), and
// max_completion_tokens, which becomes Mistral's max_tokens (it wins over max_tokens, as
// OpenAI deprecated max_tokens for it).
func withoutUnknown(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	delete(m, "stream_options")
	if v, ok := m["max_completion_tokens"]; ok {
		if string(v) != "null" {
			m["max_tokens"] = v
		}
		delete(m, "max_completion_tokens")
	}
	var msgs []map[string]json.RawMessage
	if bytes.Contains(m["messages"], extraContentKey) && json.Unmarshal(m["messages"], &msgs) == nil {
		for _, msg := range msgs {
			var calls []map[string]json.RawMessage
			if json.Unmarshal(msg["tool_calls"], &calls) != nil || len(calls) == 0 {
				continue
			}
			for _, c := range calls {
				delete(c, "extra_content")
			}
			msg["tool_calls"], _ = json.Marshal(calls)
		}
		m["messages"], _ = json.Marshal(msgs)
	}
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
	if r == nil {
		return &stream{Stream: s}
	}
	if r.Model.Options.MistralFormat == "ollama" {
		return s
	}
	return &stream{Stream: s, includeUsage: chunk.IncludeUsage(r.Body)}
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
	extraContentKey  = []byte(`"extra_content"`)
	maxCompletionKey = []byte(`"max_completion_tokens"`)
	usageKey         = []byte(`"usage"`)
	modelLength      = []byte(`"finish_reason":"model_length"`)
)
