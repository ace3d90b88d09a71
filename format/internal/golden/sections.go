package golden

import (
	"bytes"
	"strconv"
	"testing"
)

// ErrorSection returns the section name holding translate's rendering (a package's Error) of
// the archive's openai-error section ("<status> <OpenAI error body>"); none if the archive
// has no openai-error.
func ErrorSection(a *Archive, name string, translate func(status int, openaiErr []byte) []byte) []Section {
	b, ok := a.Get("openai-error")
	if !ok {
		return nil
	}
	return []Section{{Name: name, Data: translate(StatusAndBody(b))}}
}

// RequestError returns the error section of a request that ParseRequest refused: the
// error's kind (ErrorKind) and message.
func RequestError(err error) Section {
	return Section{Name: "error", Data: []byte(ErrorKind(err) + ": " + err.Error())}
}

// Answers returns the sections that a parsed request gives of the archive's chat answers:
// response.json, response's translation of chat-response.json; and stream, what s gives of
// chat-stream (ReplayStream), passed to render, which checks its framing and returns the
// section's content (without a final newline, which is trimmed). It leaves out the section
// of an answer the archive lacks.
func Answers(t *testing.T, a *Archive, response func(chat []byte) ([]byte, error), s Stream, render func(t *testing.T, stream []byte) []byte) []Section {
	t.Helper()
	var out []Section
	if b, ok := a.Get("chat-response.json"); ok {
		resp, err := response(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Section{Name: "response.json", Data: resp})
	}
	if b, ok := a.Get("chat-stream"); ok {
		got := render(t, ReplayStream(t, a, b, s))
		out = append(out, Section{Name: "stream", Data: bytes.TrimSuffix(got, []byte("\n"))})
	}
	return out
}

// WithTopK returns chat with a line "top_k: N" after it when topK is set: the
// chat-request.json section of a request whose top_k is kept beside the chat body.
func WithTopK(chat []byte, topK *int) []byte {
	if topK == nil {
		return chat
	}
	return append(append(append([]byte(nil), chat...), "\ntop_k: "...), strconv.Itoa(*topK)...)
}
