package bedrock

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	body := []byte(`{"output":{"message":{"role":"assistant","content":[{"text":` + string(text) + `}]}},"stopReason":"end_turn","usage":{"inputTokens":30,"outputTokens":900,"totalTokens":930},"metrics":{"latencyMs":412}}`)
	r := chatReq([]byte(`{"model":"claude","messages":[]}`), false)
	providertest.BenchmarkResponse(b, Provider{}, r, body)
}

func benchFrames(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	frame := func(typ, payload string) {
		var m eventstream.Message
		m.Headers.Set(":message-type", eventstream.StringValue("event"))
		m.Headers.Set(":event-type", eventstream.StringValue(typ))
		m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		m.Payload = []byte(payload)
		if err := enc.Encode(&buf, m); err != nil {
			b.Fatal(err)
		}
	}
	frame("messageStart", `{"role":"assistant","p":"abcdefgh"}`)
	for range n {
		frame("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":" token"},"p":"abcdefghijklmnopqrstu"}`)
	}
	frame("contentBlockStop", `{"contentBlockIndex":0}`)
	frame("messageStop", `{"stopReason":"end_turn"}`)
	frame("metadata", `{"usage":{"inputTokens":10,"outputTokens":200,"totalTokens":210},"metrics":{"latencyMs":1}}`)
	return buf.Bytes()
}

func BenchmarkStream200(b *testing.B) {
	raw := benchFrames(b, 200)
	r := chatReq([]byte(`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[]}`), true)
	providertest.BenchmarkStream(b, Provider{}, r, raw)
}
