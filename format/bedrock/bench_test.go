package bedrock

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// benchRequest is a Converse request of a coding agent's shape: a system prompt, a short
// history with a tool call and its result, two tools.
var benchRequest = []byte(`{"system":[{"text":"You are a careful coding assistant."},{"cachePoint":{"type":"default"}}],
"messages":[{"role":"user","content":[{"text":"Fix the failing test in parser_test.go."}]},
{"role":"assistant","content":[{"text":"Let me read it."},{"toolUse":{"toolUseId":"tooluse_1","name":"read_file","input":{"path":"parser_test.go"}}}]},
{"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_1","content":[{"text":"package parser\n\nfunc TestParse(t *testing.T) {}"}]}}]},
{"role":"assistant","content":[{"text":"The test calls Parse with a nil reader."}]},
{"role":"user","content":[{"text":"Go on."}]}],
"toolConfig":{"tools":[{"toolSpec":{"name":"read_file","description":"Read a file.","inputSchema":{"json":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}},
{"toolSpec":{"name":"write_file","description":"Write a file.","inputSchema":{"json":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}}}]},
"inferenceConfig":{"maxTokens":2048,"temperature":0.2}}`)

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for range b.N {
		if _, err := ParseRequest(benchRequest, "anthropic.claude-sonnet-4-5", true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, "anthropic.claude-sonnet-4-5", true)
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
	r, err := ParseRequest(benchRequest, "anthropic.claude-sonnet-4-5", true)
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
