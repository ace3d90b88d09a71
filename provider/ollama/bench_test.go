package ollama

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	body := []byte(`{"model":"llama3.2:3b","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":` + string(text) + `},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":900}`)
	providertest.BenchmarkResponse(b, Provider{}, chatReq([]byte(`{"model":"llama3.2","messages":[]}`), false), body)
}

func BenchmarkStream200(b *testing.B) {
	var sb strings.Builder
	for range 200 {
		sb.WriteString(`{"model":"llama3.2:3b","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" token"},"done":false}` + "\n")
	}
	sb.WriteString(`{"model":"llama3.2:3b","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":200}` + "\n")
	r := chatReq([]byte(`{"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"messages":[]}`), true)
	providertest.BenchmarkStream(b, Provider{}, r, []byte(sb.String()))
}
