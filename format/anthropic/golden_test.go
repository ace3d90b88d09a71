package anthropic

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: request.json (a Messages API
// request), chat-response.json (a chat completion), chat-stream (a chat completion stream as
// "data:" lines), chat-stream-error (the status and OpenAI-format error that break the
// stream off) and openai-error (a status and an OpenAI-format error body). Output sections:
// chat-request.json or error, response.json, stream, anthropic-error.json.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		var out []golden.Section
		if b, ok := a.Get("openai-error"); ok {
			status, body := golden.StatusAndBody(b)
			out = append(out, golden.Section{Name: "anthropic-error.json", Data: Error(status, body)})
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
			checkEvents(t, got)
			out = append(out, golden.Section{Name: "stream", Data: bytes.TrimSuffix(got, []byte("\n"))})
		}
		return out
	})
}

// checkEvents checks the framing of a translated stream: every event has an event: line
// naming its data's type and one line of JSON data.
func checkEvents(t *testing.T, stream []byte) {
	t.Helper()
	for i, ev := range bytes.Split(bytes.TrimSuffix(stream, []byte("\n\n")), []byte("\n\n")) {
		lines := bytes.Split(ev, []byte("\n"))
		if len(lines) != 2 {
			t.Fatalf("event %d has %d lines: %q", i, len(lines), ev)
		}
		name, ok1 := bytes.CutPrefix(lines[0], []byte("event: "))
		data, ok2 := bytes.CutPrefix(lines[1], []byte("data: "))
		if !ok1 || !ok2 {
			t.Fatalf("event %d is not framed as event: + data: %q", i, ev)
		}
		var d struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.Type != string(name) {
			t.Fatalf("event %d (event: %s): type %q, %v: %s", i, name, d.Type, err, data)
		}
	}
}
