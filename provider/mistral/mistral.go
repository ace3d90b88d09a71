// Package mistral is the provider for Mistral models in Kong's two mistral_format values:
// "openai" (Mistral's La Plateforme API, https://api.mistral.ai/v1, or any OpenAI-compatible
// server at upstream_url) and "ollama" (Ollama's native API at upstream_url).
package mistral

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
