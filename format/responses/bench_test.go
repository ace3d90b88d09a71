package responses

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// benchRequest is a Responses request of a coding agent's shape: instructions, a short
// history with a function call and its output, two function tools.
var benchRequest = []byte(`{"model":"gpt-4.1","instructions":"You are a careful coding assistant.","stream":true,
"input":[{"role":"user","content":[{"type":"input_text","text":"Fix the failing test in parser_test.go."}]},
{"type":"function_call","call_id":"call_1","name":"read_file","arguments":"{\"path\":\"parser_test.go\"}"},
{"type":"function_call_output","call_id":"call_1","output":"package parser\n\nfunc TestParse(t *testing.T) {}"},
{"role":"assistant","content":[{"type":"output_text","text":"The test calls Parse with a nil reader."}]},
{"role":"user","content":"Go on."}],
"tools":[{"type":"function","name":"read_file","description":"Read a file.","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}},
{"type":"function","name":"write_file","description":"Write a file.","parameters":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}],
"max_output_tokens":2048,"temperature":0.2}`)

func BenchmarkParseRequest(b *testing.B) {
	formattest.BenchParse(b, benchRequest, func(body []byte) error {
		_, err := ParseRequest(body)
		return err
	})
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest)
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchResponse(b, r.Response)
}

// BenchmarkStream200 translates a 200-chunk stream (role, 197 text deltas, finish, usage)
// and reports allocs/chunk and ns/chunk.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest)
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchStream(b, func() golden.Stream { return r.NewStream() })
}
