package llama2

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// The raw format is not streamed upstream: the 4 KB benchmarks cover its response and the
// chunks made of it.
func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal("[INST] q [/INST] " + xlatetest.Filler(3900))
	body := []byte(`{"generated_text":` + string(text) + `,"details":{"finish_reason":"eos_token","generated_tokens":900}}`)
	providertest.BenchmarkResponse(b, Provider{}, req("raw", []byte(`{}`), false), body)
}

func BenchmarkRawStream4KB(b *testing.B) {
	text, _ := json.Marshal("[INST] q [/INST] " + xlatetest.Filler(3900))
	body := []byte(`{"generated_text":` + string(text) + `}`)
	providertest.BenchmarkStream(b, Provider{}, req("raw", []byte(`{"stream":true}`), true), body)
}

// BenchmarkStream200 streams 200 chunks in the formats that stream upstream.
func BenchmarkStream200(b *testing.B) {
	var openai, ollama strings.Builder
	openai.WriteString("data: {\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
	for i := range 198 {
		fmt.Fprintf(&openai, "data: {\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", i)
		fmt.Fprintf(&ollama, "{\"model\":\"llama2\",\"created_at\":\"2024-06-01T10:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"word %d \"},\"done\":false}\n", i)
	}
	openai.WriteString("data: {\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama2\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	ollama.WriteString("{\"model\":\"llama2\",\"created_at\":\"2024-06-01T10:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":198}\n")
	for _, f := range []struct{ format, body string }{{"openai", openai.String()}, {"ollama", ollama.String()}} {
		b.Run(f.format, func(b *testing.B) {
			providertest.BenchmarkStream(b, Provider{}, req(f.format, []byte(`{"stream":true}`), true), []byte(f.body))
		})
	}
}
