package cohere

import (
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: request.json (a v2 chat
// request), chat-response.json (a chat completion), chat-stream (a chat completion stream as
// "data:" lines), chat-stream-error (the status and OpenAI-format error that break the
// stream off) and openai-error (a status and an OpenAI-format error body). Output sections:
// chat-request.json or error, response.json, stream, cohere-error.json.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		out := golden.ErrorSection(a, "cohere-error.json", Error)
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		req, err := ParseRequest(body)
		if err != nil {
			return append(out, golden.RequestError(err))
		}
		out = append(out, golden.Section{Name: "chat-request.json", Data: req.Chat})
		return append(out, golden.Answers(t, a, req.Response, req.NewStream(), formattest.NamedEvents)...)
	})
}
