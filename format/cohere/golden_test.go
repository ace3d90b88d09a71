package cohere

import (
	"bytes"
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
		var out []golden.Section
		if b, ok := a.Get("openai-error"); ok {
			status, body := golden.StatusAndBody(b)
			out = append(out, golden.Section{Name: "cohere-error.json", Data: Error(status, body)})
		}
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		req, err := ParseRequest(body)
		if err != nil {
			return append(out, golden.Section{Name: "error", Data: []byte(golden.ErrorKind(err) + ": " + err.Error())})
		}
		out = append(out, golden.Section{Name: "chat-request.json", Data: req.Chat})
		if b, ok := a.Get("chat-response.json"); ok {
			resp, err := req.Response(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, golden.Section{Name: "response.json", Data: resp})
		}
		if b, ok := a.Get("chat-stream"); ok {
			got := golden.ReplayStream(t, a, b, req.NewStream())
			formattest.CheckNamedEvents(t, got)
			out = append(out, golden.Section{Name: "stream", Data: bytes.TrimSuffix(got, []byte("\n"))})
		}
		return out
	})
}
