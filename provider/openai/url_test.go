package openai

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aiproxy/aiproxy/provider"
)

// An upstream_url that names only a host gets the provider's path, as in Kong (its Ollama
// example is http://ollama-server.local:11434); one with a path is used as it is.
func TestUpstreamURLWithoutPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://ollama-server.local:11434":          "http://ollama-server.local:11434/v1/chat/completions",
		"http://ollama-server.local:11434/":         "http://ollama-server.local:11434/v1/chat/completions",
		"https://proxy.example/v1/chat/completions": "https://proxy.example/v1/chat/completions",
		"https://proxy.example/custom?x=1":          "https://proxy.example/custom?x=1",
	} {
		r := &provider.Request{RouteType: provider.Chat, Model: provider.Model{Options: provider.Options{UpstreamURL: in}}}
		assert.Equal(t, want, URL(DefaultBaseURL, Path(provider.Chat), r), in)
	}
}
