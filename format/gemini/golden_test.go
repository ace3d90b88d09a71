package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// TestGolden runs the archives in testdata. Input sections: url (the request's
// "{model}:{method}[?alt=sse]"), request.json (a generateContent request body),
// chat-response.json (a chat completion), chat-stream (a chat completion stream as "data:"
// lines), chat-stream-error (the status and OpenAI-format error that break the stream off)
// and openai-error (a status and an OpenAI-format error body). Output sections:
// chat-request.json or error, response.json, stream (with "\r\n" shown as "\n"),
// gemini-error.json.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		out := golden.ErrorSection(a, "gemini-error.json", Error)
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		url, _ := a.Get("url")
		model, stream, sse := parseURL(string(url))
		req, err := ParseRequest(body, model, stream)
		if err != nil {
			return append(out, golden.RequestError(err))
		}
		out = append(out, golden.Section{Name: "chat-request.json", Data: req.Chat})
		return append(out, golden.Answers(t, a, req.Response, req.NewStream(sse), func(t *testing.T, got []byte) []byte {
			checkStream(t, got, sse)
			return bytes.ReplaceAll(got, []byte("\r\n"), []byte("\n"))
		})...)
	})
}

// parseURL reads "gemini-2.5-flash:streamGenerateContent?alt=sse".
func parseURL(url string) (model string, stream, sse bool) {
	model, method, _ := strings.Cut(url, ":")
	method, query, _ := strings.Cut(method, "?")
	return model, method == "streamGenerateContent", query == "alt=sse"
}

// checkStream checks the framing of a translated stream: server-sent events of one data line
// of JSON each, ended by "\r\n\r\n"; or one JSON array of objects.
func checkStream(t testing.TB, stream []byte, sse bool) {
	t.Helper()
	if !sse {
		var elems []json.RawMessage
		if err := json.Unmarshal(stream, &elems); err != nil || len(elems) == 0 {
			t.Fatalf("not a JSON array: %v: %q", err, stream)
		}
		for i, e := range elems {
			if e[0] != '{' {
				t.Fatalf("element %d is not an object: %s", i, e)
			}
		}
		return
	}
	if !bytes.HasSuffix(stream, []byte("\r\n\r\n")) {
		t.Fatalf("the stream does not end an event: %q", stream)
	}
	for i, ev := range bytes.Split(bytes.TrimSuffix(stream, []byte("\r\n\r\n")), []byte("\r\n\r\n")) {
		data, ok := bytes.CutPrefix(ev, []byte("data: "))
		if !ok || bytes.ContainsAny(data, "\r\n") || !json.Valid(data) || data[0] != '{' {
			t.Fatalf("event %d is not one data line of a JSON object: %q", i, ev)
		}
	}
}
