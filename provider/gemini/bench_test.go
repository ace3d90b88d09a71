package gemini

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// benchResponse is a ~4 KB generateContent response.
func benchResponse() []byte {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 86)
	return []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"` + text +
		`"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":900,"totalTokenCount":1000},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`)
}

// benchStream is an alt=sse stream giving 200 OpenAI chunks: role, 197 text deltas, finish, usage.
func benchStream() []byte {
	var b strings.Builder
	for i := range 197 {
		fin := ""
		if i == 196 {
			fin = `,"finishReason":"STOP"`
		}
		fmt.Fprintf(&b, "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"word %d \"}]}%s,\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":%d,\"totalTokenCount\":%d},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n", i, fin, i, i+8)
	}
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
