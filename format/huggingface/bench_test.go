package huggingface

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// benchRequest is a text-generation request of an agent's shape: a prompt in a chat
// template with a system prompt, a short history with a tool call and its result, and the
// sampling parameters clients send.
var benchRequest = []byte(`{"inputs":"<|system|>\nYou are a careful coding assistant. Tools: read_file(path), write_file(path, content).</s>\n<|user|>\nFix the failing test in parser_test.go.</s>\n<|assistant|>\nLet me read it. {\"tool\":\"read_file\",\"path\":\"parser_test.go\"}</s>\n<|tool|>\npackage parser\n\nfunc TestParse(t *testing.T) {}</s>\n<|assistant|>\nThe test calls Parse with a nil reader.</s>\n<|user|>\nGo on.</s>\n<|assistant|>\n",
"parameters":{"max_new_tokens":2048,"temperature":0.2,"top_p":0.95,"top_k":50,"repetition_penalty":1.03,"stop":["</s>","<|user|>"],"seed":42,"do_sample":true,"details":true,"return_full_text":false,"watermark":false},"stream":true}`)

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for range b.N {
		if _, err := ParseRequest(benchRequest, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, true)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 91)
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		if _, err := r.Response(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream200 translates a 200-chunk stream (role, 197 text deltas, finish, usage)
// and reports allocs/chunk and ns/chunk; the output buffer is reused, as a proxy writing
// each chunk's events out would.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest, true)
	if err != nil {
		b.Fatal(err)
	}
	head := `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[`
	chunks := [][]byte{[]byte(head + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)}
	for i := range 197 {
		chunks = append(chunks, fmt.Appendf(nil, `%s{"index":0,"delta":{"content":"word %d "},"finish_reason":null}]}`, head, i))
	}
	chunks = append(chunks, []byte(head+`{"index":0,"delta":{},"finish_reason":"stop"}]}`),
		[]byte(head+`],"usage":{"prompt_tokens":25,"completion_tokens":400,"total_tokens":425}}`))
	var buf []byte
	run := func() {
		s := r.NewStream()
		for _, c := range chunks {
			var err error
			if buf, err = s.Chunk(buf[:0], c); err != nil {
				b.Fatal(err)
			}
		}
		buf = s.End(buf[:0])
	}
	run()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N * len(chunks))
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/chunk")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/chunk")
}
