package cohere

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// benchRequest is a v2 chat request of a coding agent's shape: a system message, a short
// history with a tool call and its result, two tools.
var benchRequest = []byte(`{"model":"command-a-03-2025","max_tokens":2048,"stream":true,
"messages":[{"role":"system","content":"You are a careful coding assistant."},
{"role":"user","content":[{"type":"text","text":"Fix the failing test in parser_test.go."}]},
{"role":"assistant","tool_plan":"Let me read it.","tool_calls":[{"id":"read_file_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"parser_test.go\"}"}}]},
{"role":"tool","tool_call_id":"read_file_1","content":[{"type":"text","text":"package parser\n\nfunc TestParse(t *testing.T) {}"}]},
{"role":"assistant","content":"The test calls Parse with a nil reader."},
{"role":"user","content":"Go on."}],
"tools":[{"type":"function","function":{"name":"read_file","description":"Read a file.","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}},
{"type":"function","function":{"name":"write_file","description":"Write a file.","parameters":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}}],
"temperature":0.2}`)

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
	var s Stream // reset each time: not an allocation (see BenchStream)
	formattest.BenchStream(b, func() golden.Stream { s = *r.NewStream(); return &s })
}
