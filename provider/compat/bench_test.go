package compat

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// benchNames are the providers benchmarked: they share the openai pass-through, and DeepSeek
// adds its own usage fields.
var benchNames = []string{"deepseek", "xai", "vllm"}

// benchResponse is a ~4 KB chat.completion with DeepSeek's cache fields in its usage.
func benchResponse() []byte {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	return []byte(`{"id":"930c60df","object":"chat.completion","created":1,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(text) + `},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000,"prompt_tokens_details":{"cached_tokens":64},"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36},"system_fingerprint":"fp_1"}`)
}

// benchStream is an SSE stream of 200 chunks: role, 197 text deltas, finish, usage.
func benchStream() []byte {
	var b strings.Builder
	b.WriteString("data: {\"id\":\"930c60df\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
	for i := range 197 {
		fmt.Fprintf(&b, "data: {\"id\":\"930c60df\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString("data: {\"id\":\"930c60df\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}\n\n")
	b.WriteString("data: {\"id\":\"930c60df\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-chat\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":197,\"total_tokens\":207,\"prompt_cache_hit_tokens\":0,\"prompt_cache_miss_tokens\":10}}\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

func benchProvider(b *testing.B, name string) Provider {
	p, ok := New(name)
	if !ok {
		b.Fatal("no provider " + name)
	}
	return p
}

func BenchmarkParseResponse4KB(b *testing.B) {
	for _, name := range benchNames {
		b.Run(name, func(b *testing.B) {
			providertest.BenchmarkResponse(b, benchProvider(b, name), &provider.Request{RouteType: provider.Chat}, benchResponse())
		})
	}
}

func BenchmarkStream200(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Stream: true, Body: []byte(`{"stream":true,"stream_options":{"include_usage":true}}`)}
	for _, name := range benchNames {
		b.Run(name, func(b *testing.B) {
			providertest.BenchmarkStream(b, benchProvider(b, name), r, benchStream())
		})
	}
}
