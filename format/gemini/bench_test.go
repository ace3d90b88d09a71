package gemini

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// benchRequest is a generateContent request of a coding agent's shape: a system
// instruction, a short history with a function call and its response, two function
// declarations.
var benchRequest = []byte(`{"systemInstruction":{"parts":[{"text":"You are a careful coding assistant."}]},
"contents":[{"role":"user","parts":[{"text":"Fix the failing test in parser_test.go."}]},
{"role":"model","parts":[{"text":"Let me read it."},{"functionCall":{"name":"read_file","args":{"path":"parser_test.go"}}}]},
{"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"content":"package parser\n\nfunc TestParse(t *testing.T) {}"}}}]},
{"role":"model","parts":[{"text":"The test calls Parse with a nil reader."}]},
{"role":"user","parts":[{"text":"Go on."}]}],
"tools":[{"functionDeclarations":[{"name":"read_file","description":"Read a file.","parametersJsonSchema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}},
{"name":"write_file","description":"Write a file.","parametersJsonSchema":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}]}],
"generationConfig":{"temperature":0.2,"maxOutputTokens":2048}}`)

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for range b.N {
		if _, err := ParseRequest(benchRequest, "gemini-2.5-flash", true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, "gemini-2.5-flash", false)
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
// as server-sent events and reports allocs/chunk and ns/chunk; the output buffer is reused,
// as a proxy writing each chunk's events out would.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest, "gemini-2.5-flash", true)
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
		s := r.NewStream(true)
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
