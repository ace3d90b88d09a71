package formattest

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/golden"
	"github.com/aiproxy/aiproxy/provider"
)

// FuzzRequest fuzzes parse, a package's ParseRequest giving the chat request, seeded with
// the goldens' request.json sections: it never panics, and gives valid JSON or a typed error.
func FuzzRequest(f *testing.F, parse func(body []byte) (chat []byte, err error)) {
	for _, b := range golden.Seeds(f, "testdata", "request.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		chat, err := parse(body)
		CheckRequest(t, chat, err)
	})
}

// FuzzRequestStream is FuzzRequest for a ParseRequest that is told whether the client
// asked for a stream (by the request's path): seeded with each request.json both ways.
func FuzzRequestStream(f *testing.F, parse func(body []byte, stream bool) (chat []byte, err error)) {
	for _, b := range golden.Seeds(f, "testdata", "request.json") {
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, stream bool) {
		chat, err := parse(body, stream)
		CheckRequest(t, chat, err)
	})
}

// CheckRequest checks what ParseRequest gave: a typed error (format.ErrUnsupported or
// format.ErrInvalidRequest), or a chat request of valid JSON. It reports whether there was
// a request.
func CheckRequest(t testing.TB, chat []byte, err error) bool {
	t.Helper()
	if err != nil {
		if !errors.Is(err, format.ErrUnsupported) && !errors.Is(err, format.ErrInvalidRequest) {
			t.Fatalf("untyped error: %v", err)
		}
		return false
	}
	if !json.Valid(chat) {
		t.Fatalf("chat request is not JSON: %s", chat)
	}
	return true
}

// FuzzResponse fuzzes response (a request's Response) and checkError (which checks the
// package's Error of a status and an OpenAI-format error body), seeded with the goldens'
// chat-response.json sections (status 200) and openai-error sections: Response never panics
// and gives valid JSON or a 502 (CheckResponse).
func FuzzResponse(f *testing.F, response func(chat []byte) ([]byte, error), checkError func(t *testing.T, status int, body []byte)) {
	for _, b := range golden.Seeds(f, "testdata", "chat-response.json") {
		f.Add(b, 200)
	}
	for _, b := range golden.Seeds(f, "testdata", "openai-error") {
		status, body := golden.StatusAndBody(b)
		f.Add(body, status)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		checkError(t, status, body)
		resp, err := response(body)
		CheckResponse(t, resp, err)
	})
}

// CheckResponse checks what Response gave: valid JSON or a 502 *provider.Error.
func CheckResponse(t testing.TB, resp []byte, err error) {
	t.Helper()
	if err != nil {
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != 502 {
			t.Fatalf("error is not a 502: %v", err)
		}
		return
	}
	if !json.Valid(resp) {
		t.Fatalf("response is not JSON: %s", resp)
	}
}

// FuzzStream fuzzes a stream translator, seeded with the goldens' chat-stream sections: a
// stream from newStream, fed the input by Feed, never panics, and check accepts its output.
// check is the package's framing check, which the golden test also renders the stream with
// (golden.Answers); what it returns is not used here.
func FuzzStream(f *testing.F, newStream func() golden.Stream, check func(t *testing.T, stream []byte) []byte) {
	for _, b := range golden.Seeds(f, "testdata", "chat-stream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check(t, Feed(newStream(), body))
	})
}

// Feed feeds s each non-blank line of body (without a "data: " prefix) as a chunk, and
// returns its output, ended by End, or by Fail with a 502 after a chunk it refused.
func Feed(s golden.Stream, body []byte) []byte {
	var out []byte
	var err error
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimPrefix(line, []byte("data: "))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if out, err = s.Chunk(out, line); err != nil {
			break
		}
	}
	if err != nil {
		return s.Fail(out, 502, []byte(`{"error":{"message":"broken","type":"server_error"}}`))
	}
	return s.End(out)
}
