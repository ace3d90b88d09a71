package aiproxy

import (
	"fmt"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// builtinProvider returns the built-in provider for a target's model.
func builtinProvider(m provider.Model) (provider.Provider, error) {
	switch m.Provider {
	case "openai":
		return openai.Provider{}, nil
	case "mistral":
		switch m.Options.MistralFormat {
		case "openai", "":
			return openai.Provider{BaseURL: "https://api.mistral.ai/v1"}, nil
		}
		return nil, fmt.Errorf("model.options.mistral_format %q is not supported", m.Options.MistralFormat)
	case "llama2":
		if m.Options.Llama2Format == "openai" {
			if m.Options.UpstreamURL == "" {
				return nil, fmt.Errorf("provider llama2 needs model.options.upstream_url")
			}
			return openai.Provider{}, nil
		}
		return nil, fmt.Errorf("model.options.llama2_format %q is not supported", m.Options.Llama2Format)
	}
	return nil, fmt.Errorf("model.provider %q is not supported", m.Provider)
}
