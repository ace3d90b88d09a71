package anthropic

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// benchRequest is a Messages request of a coding agent's shape: a system prompt, a short
// history with a tool call and its result, two tools.
var benchRequest = []byte(`{"model":"claude-sonnet-4-5","max_tokens":2048,"stream":true,
"system":[{"type":"text","text":"You are a careful coding assistant.","cache_control":{"type":"ephemeral"}}],
"messages":[{"role":"user","content":[{"type":"text","text":"Fix the failing test in parser_test.go."}]},
{"role":"assistant","content":[{"type":"text","text":"Let me read it."},{"type":"tool_use","id":"toolu_1","name":"read_file","input":{"path":"parser_test.go"}}]},
{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"package parser\n\nfunc TestParse(t *testing.T) {}"}]},
{"role":"assistant","content":"The test calls Parse with a nil reader."},
{"role":"user","content":"Go on."}],
"tools":[{"name":"read_file","description":"Read a file.","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}},
{"name":"write_file","description":"Write a file.","input_schema":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}],
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
