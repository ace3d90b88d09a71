package responses

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: request.json (a Responses API
// request), chat-response.json (a chat completion), chat-stream (a chat completion stream as
// "data:" lines) and chat-stream-error (the status and OpenAI-format error that break the
// stream off). Output sections: chat-request.json or error, response.json, stream.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		body, ok := a.Get("request.json")
		if !ok {
			t.Fatal("no request.json section")
		}
		req, err := ParseRequest(body)
		if err != nil {
			return []golden.Section{golden.RequestError(err)}
		}
		out := []golden.Section{{Name: "chat-request.json", Data: req.Chat}}
		return append(out, golden.Answers(t, a, req.Response, req.NewStream(), checkEvents)...)
	})
}

// checkEvents checks the framing of a translated stream, and returns it: every event has an
// event: line naming its data's type and one line of JSON data (formattest.NamedEvents),
// and sequence numbers counting from 0.
func checkEvents(t *testing.T, stream []byte) []byte {
	t.Helper()
	formattest.NamedEvents(t, stream)
	for i, ev := range bytes.Split(bytes.TrimSuffix(stream, []byte("\n\n")), []byte("\n\n")) {
		_, data, _ := bytes.Cut(ev, []byte("\ndata: "))
		var d struct {
			Seq *int `json:"sequence_number"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.Seq == nil || *d.Seq != i {
			t.Fatalf("event %d: sequence_number is not %d (%v): %s", i, i, err, data)
		}
	}
	return stream
}
