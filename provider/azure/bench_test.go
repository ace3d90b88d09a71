package azure

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func BenchmarkParseResponse4KB(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 86)
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000}}`)
	providertest.BenchmarkResponse(b, Provider{}, &provider.Request{RouteType: provider.Chat}, body)
}

func BenchmarkStream200(b *testing.B) {
	var s strings.Builder
	s.WriteString(`data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}` + "\n\n")
	for i := range 200 {
		fmt.Fprintf(&s, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", i)
	}
	s.WriteString("data: [DONE]\n\n")
	providertest.BenchmarkStream(b, Provider{}, &provider.Request{RouteType: provider.Chat, Stream: true}, []byte(s.String()))
}
