package huggingface

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// benchRequest is a text-generation request of an agent's shape: a prompt in a chat
// template with a system prompt, a short history with a tool call and its result, and the
// sampling parameters clients send.
var benchRequest = []byte(`{"inputs":"<|system|>\nYou are a careful coding assistant. Tools: read_file(path), write_file(path, content).</s>\n<|user|>\nFix the failing test in parser_test.go.</s>\n<|assistant|>\nLet me read it. {\"tool\":\"read_file\",\"path\":\"parser_test.go\"}</s>\n<|tool|>\npackage parser\n\nfunc TestParse(t *testing.T) {}</s>\n<|assistant|>\nThe test calls Parse with a nil reader.</s>\n<|user|>\nGo on.</s>\n<|assistant|>\n",
"parameters":{"max_new_tokens":2048,"temperature":0.2,"top_p":0.95,"top_k":50,"repetition_penalty":1.03,"stop":["</s>","<|user|>"],"seed":42,"do_sample":true,"details":true,"return_full_text":false,"watermark":false},"stream":true}`)

func BenchmarkParseRequest(b *testing.B) {
	formattest.BenchParse(b, benchRequest, func(body []byte) error {
		_, err := ParseRequest(body, true)
		return err
	})
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, true)
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchResponse(b, r.Response)
}

// BenchmarkStream200 translates a 200-chunk stream (role, 197 text deltas, finish, usage)
// and reports allocs/chunk and ns/chunk.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest, true)
	if err != nil {
		b.Fatal(err)
	}
	var s Stream // reset each time: not an allocation (see BenchStream)
	formattest.BenchStream(b, func() golden.Stream { s = *r.NewStream(); return &s })
}
