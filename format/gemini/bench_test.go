package gemini

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
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
	formattest.BenchParse(b, benchRequest, func(body []byte) error {
		_, err := ParseRequest(body, "gemini-2.5-flash", true)
		return err
	})
}

// BenchmarkResponse4KB translates a chat completion with 4 KB of text.
func BenchmarkResponse4KB(b *testing.B) {
	r, err := ParseRequest(benchRequest, "gemini-2.5-flash", false)
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchResponse(b, r.Response)
}

// BenchmarkStream200 translates a 200-chunk stream (role, 197 text deltas, finish, usage)
// as server-sent events and reports allocs/chunk and ns/chunk.
func BenchmarkStream200(b *testing.B) {
	r, err := ParseRequest(benchRequest, "gemini-2.5-flash", true)
	if err != nil {
		b.Fatal(err)
	}
	var s Stream // reset each time: not an allocation (see BenchStream)
	formattest.BenchStream(b, func() golden.Stream { s = *r.NewStream(true); return &s })
}
