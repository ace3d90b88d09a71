package mistral

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// benchResponse is a ~4 KB chat.completion of Mistral's API.
func benchResponse() []byte {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	return []byte(`{"id":"cmpl-e5cc70bb28c444948073e77776eb30ef","object":"chat.completion","created":1702256327,"model":"mistral-large-latest","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(text) + `,"tool_calls":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000}}`)
}

// benchStream is Mistral's SSE stream of 199 events, usage in the finish chunk; translated
// with include_usage it gives 200 chunks (the usage split into its own last chunk).
func benchStream() []byte {
	const id = `"id":"c16c7be4a8104784aa4c16265a5aa416","object":"chat.completion.chunk","created":1717000000,"model":"mistral-large-latest"`
	var b strings.Builder
	b.WriteString("data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
	for i := range 197 {
		fmt.Fprintf(&b, "data: {"+id+",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString("data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"total_tokens\":207,\"completion_tokens\":197}}\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

// benchOllamaStream is Ollama's ndjson stream of 200 lines (mistral_format: ollama).
func benchOllamaStream() []byte {
	var b strings.Builder
	for i := range 199 {
		fmt.Fprintf(&b, "{\"model\":\"mistral\",\"created_at\":\"2024-06-01T10:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"word %d \"},\"done\":false}\n", i)
	}
	b.WriteString("{\"model\":\"mistral\",\"created_at\":\"2024-06-01T10:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":199}\n")
	return []byte(b.String())
}

func BenchmarkParseResponse4KB(b *testing.B) {
	providertest.BenchmarkResponse(b, Provider{}, &provider.Request{RouteType: provider.Chat}, benchResponse())
}

func BenchmarkStream200(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Stream: true, Body: []byte(`{"stream":true,"stream_options":{"include_usage":true}}`)}
	providertest.BenchmarkStream(b, Provider{}, r, benchStream())
}

func BenchmarkStream200Ollama(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Stream: true, Body: []byte(`{"stream":true,"stream_options":{"include_usage":true}}`),
		Model: provider.Model{Options: provider.Options{MistralFormat: "ollama", UpstreamURL: "http://localhost:11434/api/chat"}}}
	providertest.BenchmarkStream(b, Provider{}, r, benchOllamaStream())
}
