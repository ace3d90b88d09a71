package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// benchResponse is a ~4 KB chat.completion.
func benchResponse() []byte {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(text) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000,"prompt_tokens_details":{"cached_tokens":20}}}`)
}

// benchStream is an SSE stream of 200 chunks: role, 197 text deltas, finish, usage.
func benchStream() []byte {
	var b strings.Builder
	b.WriteString("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
	for i := range 197 {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
	b.WriteString("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":197,\"total_tokens\":207}}\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

func BenchmarkParseResponse4KB(b *testing.B) {
	providertest.BenchmarkResponse(b, Provider{}, &provider.Request{RouteType: provider.Chat}, benchResponse())
}

func BenchmarkStream200(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Stream: true, Body: []byte(`{"stream":true,"stream_options":{"include_usage":true}}`)}
	providertest.BenchmarkStream(b, Provider{}, r, benchStream())
}
