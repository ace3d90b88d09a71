package bedrock

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
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
	formattest.BenchParse(b, benchRequest, func(body []byte) error {
		_, err := ParseRequest(body, "anthropic.claude-sonnet-4-5", true)
		return err
	})
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, "anthropic.claude-sonnet-4-5", true)
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchResponse(b, r.Response)
}

// BenchmarkStream200 translates a 200-chunk stream (role, 197 text deltas, finish, usage)
// and reports allocs/chunk and ns/chunk.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest, "anthropic.claude-sonnet-4-5", true)
	if err != nil {
		b.Fatal(err)
	}
	var s Stream // reset each time: not an allocation (see BenchStream)
	formattest.BenchStream(b, func() golden.Stream { s = *r.NewStream(); return &s })
}
