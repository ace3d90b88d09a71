package huggingface

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/golden"
	"github.com/aiproxy/aiproxy/provider"
)

// FuzzRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzRequest(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "request.json") {
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, stream bool) {
		r, err := ParseRequest(body, stream)
		if err != nil {
			if !errors.Is(err, format.ErrUnsupported) && !errors.Is(err, format.ErrInvalidRequest) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !json.Valid(r.Chat) {
			t.Fatalf("chat request is not JSON: %s", r.Chat)
		}
	})
}

var fuzzRequest = &Request{Stream: true, inputs: "Say \"hi\"", fullText: true, details: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// valid TGI error body.
func FuzzResponse(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "chat-response.json") {
		f.Add(b, 200)
	}
	for _, b := range golden.Seeds(f, "testdata", "openai-error") {
		status, body := golden.StatusAndBody(b)
		f.Add(body, status)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		var e struct {
			Error     string `json:"error"`
			ErrorType string `json:"error_type"`
		}
		if err := json.Unmarshal(Error(status, body), &e); err != nil || e.Error == "" || e.ErrorType == "" {
			t.Fatalf("error body %+v: %v", e, err)
		}
		resp, err := fuzzRequest.Response(body)
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
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed events of valid JSON.
func FuzzStream(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "chat-stream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := fuzzRequest.NewStream()
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
			out = s.Fail(out, 502, []byte(`{"error":{"message":"broken","type":"server_error"}}`))
		} else {
			out = s.End(out)
		}
		checkEvents(t, out)
	})
}
