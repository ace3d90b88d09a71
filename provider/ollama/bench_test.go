package ollama

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
)

func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal(xlatetest.Filler(3900))
	body := []byte(`{"model":"llama3.2:3b","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":` + string(text) + `},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":900}`)
	r := chatReq([]byte(`{"model":"llama3.2","messages":[]}`), false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Provider{}).ParseResponse(r, nil, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStream200(b *testing.B) {
	var sb strings.Builder
	for range 200 {
		sb.WriteString(`{"model":"llama3.2:3b","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" token"},"done":false}` + "\n")
	}
	sb.WriteString(`{"model":"llama3.2:3b","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":200}` + "\n")
	r := chatReq([]byte(`{"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"messages":[]}`), true)
	xlatetest.BenchStream(b, []byte(sb.String()), func(rd io.Reader) provider.Stream { return Provider{}.NewStream(r, nil, rd) })
}
