package aiproxy

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/anthropic"
	"github.com/aiproxy/aiproxy/provider/azure"
	"github.com/aiproxy/aiproxy/provider/bedrock"
	"github.com/aiproxy/aiproxy/provider/cohere"
	"github.com/aiproxy/aiproxy/provider/compat"
	"github.com/aiproxy/aiproxy/provider/gemini"
	"github.com/aiproxy/aiproxy/provider/huggingface"
	"github.com/aiproxy/aiproxy/provider/llama2"
	"github.com/aiproxy/aiproxy/provider/mistral"
	"github.com/aiproxy/aiproxy/provider/ollama"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// builtin are the providers model.provider can name without Config.Providers.
var builtin = map[string]provider.Provider{
	"openai":      openai.Provider{},
	"azure":       azure.Provider{},
	"anthropic":   anthropic.Provider{},
	"gemini":      gemini.Provider{},
	"bedrock":     bedrock.Provider{},
	"cohere":      cohere.Provider{},
	"mistral":     mistral.Provider{},
	"llama2":      llama2.Provider{},
	"ollama":      ollama.Provider{},
	"huggingface": huggingface.Provider{},
}

func init() {
	for _, name := range []string{"deepseek", "xai", "cerebras", "databricks", "dashscope", "vllm"} {
		p, ok := compat.New(name)
		if !ok {
			panic("aiproxy: no compat provider " + name)
		}
		builtin[name] = p
	}
}

// builtinProvider returns the built-in provider for a target's model: a gemini model with
// model.options.gemini.endpoint_id is a Vertex AI endpoint's OpenAI-compatible API.
func builtinProvider(m provider.Model) (provider.Provider, error) {
	if vertexEndpoint(m) {
		return compat.VertexEndpoint(), nil
	}
	if p, ok := builtin[m.Provider]; ok {
		return p, nil
	}
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("model.provider %q is not supported (built in: %s; others through Config.Providers)", m.Provider, strings.Join(names, ", "))
}

// vertexEndpoint reports a gemini model deployed to a Vertex AI endpoint, which speaks
// OpenAI's API, not Gemini's.
func vertexEndpoint(m provider.Model) bool {
	g := m.Options.Gemini
	return m.Provider == "gemini" && g != nil && g.EndpointID != ""
}

// withEnvDefaults fills in what Kong reads from the environment when the configuration
// leaves it out: Bedrock's region from AWS_REGION or AWS_DEFAULT_REGION.
func withEnvDefaults(m provider.Model) provider.Model {
	if m.Provider == "bedrock" && (m.Options.Bedrock == nil || m.Options.Bedrock.AWSRegion == "") {
		region := os.Getenv("AWS_REGION")
		if region == "" {
			region = os.Getenv("AWS_DEFAULT_REGION")
		}
		if region != "" {
			b := provider.BedrockOptions{}
			if m.Options.Bedrock != nil {
				b = *m.Options.Bedrock
			}
			b.AWSRegion = region
			m.Options.Bedrock = &b
		}
	}
	return m
}
