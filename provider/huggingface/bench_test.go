package huggingface

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func BenchmarkEmbeddings(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[[")
	for i := range 384 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("0.0123456")
	}
	sb.WriteString("]]")
	r := &provider.Request{RouteType: provider.Embeddings, Model: provider.Model{Name: "sentence-transformers/all-MiniLM-L6-v2"}}
	providertest.BenchmarkResponse(b, Provider{}, r, []byte(sb.String()))
}

// BenchmarkParseResponse4KB is a TGI answer with "id":"", which gets an id filled in.
func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	body := []byte(`{"object":"chat.completion","id":"","created":1717000000,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.0.1-sha","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(text) + `},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000}}`)
	r := &provider.Request{RouteType: provider.Chat, Body: []byte(`{"model":"tgi","messages":[{"role":"user","content":"hi"}]}`)}
	providertest.BenchmarkResponse(b, Provider{}, r, body)
}

// Chat streams are OpenAI's format, passed through by provider/openai.
func BenchmarkStream200(b *testing.B) {
	var sb strings.Builder
	for range 199 {
		sb.WriteString("data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},\"finish_reason\":null}]}\n\n")
	}
	sb.WriteString("data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
	sb.WriteString("data: [DONE]\n\n")
	r := &provider.Request{RouteType: provider.Chat, Stream: true}
	providertest.BenchmarkStream(b, Provider{}, r, []byte(sb.String()))
}
