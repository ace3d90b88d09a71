// Package llama2 is the provider for self-hosted Llama 2 servers, in Kong's three
// llama2_format values:
//
//   - "raw": Hugging Face text-generation (TGI) or llama.cpp style. The chat is rendered
//     into one Llama 2 prompt ("<s>[INST] <<SYS>>...<</SYS>> ... [/INST]") sent as
//     {"inputs": ..., "parameters": {...}}; the reply is the generated text after the
//     last "[/INST]".
//   - "openai": an OpenAI-compatible server (provider/openai).
//   - "ollama": Ollama's native API (provider/ollama).
//
// As in Kong, model.options.upstream_url is required: there is no public Llama 2 endpoint.
package llama2

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/ollama"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Provider selects the translator of options.llama2_format; empty means "raw".
type Provider struct {
	// Now is the clock for responses that carry no time; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

func (p Provider) target(r *provider.Request) provider.Provider {
	if r == nil {
		return Raw(p)
	}
	switch r.Model.Options.Llama2Format {
	case "openai":
		return openai.Provider{TopK: true} // self-hosted servers (vLLM, llama.cpp) take top_k
	case "ollama":
		return ollama.Provider{Now: p.Now}
	}
	return Raw(p)
}

// NewRequest builds the request of the configured format.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	if r.Model.Options.UpstreamURL == "" {
		return nil, xlate.BadRequest("", "llama2: model.options.upstream_url is required")
	}
	switch f := r.Model.Options.Llama2Format; f {
	case "", "raw", "openai", "ollama":
	default:
		return nil, xlate.BadRequest("", "llama2: unknown llama2_format "+f)
	}
	return p.target(r).NewRequest(ctx, r)
}

// ParseResponse translates the configured format's response.
func (p Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	return p.target(r).ParseResponse(r, h, body)
}

// ParseError translates the configured format's error.
func (p Provider) ParseError(r *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return p.target(r).ParseError(r, status, h, body)
}

// NewStream translates the configured format's stream.
func (p Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	return p.target(r).NewStream(r, h, body)
}
