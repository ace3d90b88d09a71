package bedrock

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: path (/model/{modelId}/converse
// or /converse-stream, which give ParseRequest its model and stream), request.json (a Converse request), chat-response.json (a chat completion), chat-stream (a
// chat completion stream as "data:" lines), chat-stream-error (the status and OpenAI-format
// error that break the stream off) and openai-error (a status and an OpenAI-format error
// body). Output sections: chat-request.json (with "top_k: N" after it when the request had
// one) or error, response.json, stream (the event stream's messages decoded by the AWS SDK's
// decoder, one a line: message type, event or exception type, payload), bedrock-error (the
// X-Amzn-Errortype value and the body).
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		out := golden.ErrorSection(a, "bedrock-error", func(status int, openaiErr []byte) []byte {
			body, exc := Error(status, openaiErr)
			return append([]byte(exc+" "), body...)
		})
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		path, _ := a.Get("path")
		model, op, _ := strings.Cut(strings.TrimPrefix(string(path), "/model/"), "/")
		req, err := ParseRequest(body, model, op == "converse-stream")
		if err != nil {
			return append(out, golden.RequestError(err))
		}
		out = append(out, golden.Section{Name: "chat-request.json", Data: golden.WithTopK(req.Chat, req.TopK)})
		return append(out, golden.Answers(t, a, req.Response, req.NewStream(), func(t *testing.T, frames []byte) []byte {
			chatStream, _ := a.Get("chat-stream")
			checkRoundTrip(t, req, chatStream, frames)
			return decodeFrames(t, frames)
		})...)
	})
}

// decodeFrames decodes an event stream with the AWS SDK's decoder and renders its messages
// one a line; every message must have the JSON content type and a JSON payload.
func decodeFrames(t *testing.T, frames []byte) []byte {
	t.Helper()
	dec := eventstream.NewDecoder()
	r := bytes.NewReader(frames)
	var out []string
	for r.Len() > 0 {
		m, err := dec.Decode(r, nil)
		if err != nil {
			t.Fatalf("message %d: %v", len(out), err)
		}
		header := func(name string) string {
			if v := m.Headers.Get(name); v != nil {
				return v.String()
			}
			return ""
		}
		if ct := header(":content-type"); ct != "application/json" || !json.Valid(m.Payload) {
			t.Fatalf("message %d: content type %q, payload %q", len(out), ct, m.Payload)
		}
		typ := header(":event-type")
		if header(":message-type") == "exception" {
			typ = header(":exception-type")
		}
		out = append(out, header(":message-type")+" "+typ+" "+string(m.Payload))
	}
	return []byte(strings.Join(out, "\n"))
}
