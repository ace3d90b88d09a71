package huggingface

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: path (/generate,
// /generate_stream, or a serverless model URL's path, which sets Serverless), request.json
// (a text-generation request), chat-response.json (a chat completion), chat-stream (a chat
// completion stream as "data:" lines), chat-stream-error (the status and OpenAI-format error
// that break the stream off) and openai-error (a status and an OpenAI-format error body).
// Output sections: chat-request.json (with "top_k: N" after it when the request had one) or
// error, response.json, stream, huggingface-error.json.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		out := golden.ErrorSection(a, "huggingface-error.json", Error)
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		path, _ := a.Get("path")
		req, err := ParseRequest(body, strings.HasSuffix(string(path), "/generate_stream"))
		if err != nil {
			return append(out, golden.RequestError(err))
		}
		req.Serverless = !strings.HasSuffix(string(path), "/generate") && !strings.HasSuffix(string(path), "/generate_stream")
		out = append(out, golden.Section{Name: "chat-request.json", Data: golden.WithTopK(req.Chat, req.TopK)})
		return append(out, golden.Answers(t, a, req.Response, req.NewStream(), checkEvents)...)
	})
}

// checkEvents checks the framing of a translated stream, and returns it: every event is one
// "data:" line of a JSON object, a token event (whose index counts from 1) or an error
// event, the last.
func checkEvents(t *testing.T, stream []byte) []byte {
	t.Helper()
	events := bytes.Split(bytes.TrimSuffix(stream, []byte("\n\n")), []byte("\n\n"))
	for i, ev := range events {
		data, ok := bytes.CutPrefix(ev, []byte("data: "))
		if !ok || bytes.IndexByte(data, '\n') >= 0 {
			t.Fatalf("event %d is not one data: line: %q", i, ev)
		}
		var d struct {
			Index *int            `json:"index"`
			Token json.RawMessage `json:"token"`
			Error *string         `json:"error"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, data)
		}
		switch {
		case d.Error != nil && i == len(events)-1:
		case d.Index != nil && *d.Index == i+1 && d.Token != nil:
		default:
			t.Fatalf("event %d is neither the next token nor the final error: %s", i, data)
		}
	}
	return stream
}
