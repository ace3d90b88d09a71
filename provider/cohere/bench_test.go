package cohere

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	body := []byte(`{"id":"c14c80c3","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":` + string(text) + `}]},"usage":{"billed_units":{"input_tokens":17,"output_tokens":900},"tokens":{"input_tokens":215,"output_tokens":900}}}`)
	providertest.BenchmarkResponse(b, Provider{}, chatReq([]byte(`{}`), false), body)
}

func BenchmarkStream200(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("event: message-start\ndata: {\"id\":\"29f14a5a\",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}\n\n")
	for range 200 {
		sb.WriteString("event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\" token\"}}}}\n\n")
	}
	sb.WriteString("event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"tokens\":{\"input_tokens\":69,\"output_tokens\":200}}}}\n\n")
	r := chatReq([]byte(`{"stream":true,"stream_options":{"include_usage":true}}`), true)
	providertest.BenchmarkStream(b, Provider{}, r, []byte(sb.String()))
}
