package anthropic

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// benchResponse is a ~4 KB Messages API response.
func benchResponse() []byte {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 86)
	return []byte(`{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"` +
		text + `"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":900}}`)
}

// benchStream is a stream of 200 OpenAI chunks: role, 197 text deltas, finish, usage.
func benchStream() []byte {
	var b strings.Builder
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	for i := range 197 {
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word %d \"}}\n\n", i)
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	b.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":400}}\n\n")
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	return []byte(b.String())
}

func BenchmarkParseResponse4KB(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Body: []byte(`{"model":"m","messages":[]}`)}
	providertest.BenchmarkResponse(b, Provider{}, r, benchResponse())
}

func BenchmarkStream200(b *testing.B) {
	r := &provider.Request{RouteType: provider.Chat, Stream: true,
		Body: []byte(`{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`)}
	providertest.BenchmarkStream(b, Provider{}, r, benchStream())
}
