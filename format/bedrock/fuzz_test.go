package bedrock

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
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, stream bool) {
		r, err := ParseRequest(body, "amazon.nova-pro-v1:0", stream)
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

var fuzzRequest = &Request{Model: "amazon.nova-pro-v1:0", Stream: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// {"message"} body and an exception type.
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
			Message string `json:"message"`
		}
		eb, exc := Error(status, body)
		if err := json.Unmarshal(eb, &e); err != nil || e.Message == "" || exc == "" {
			t.Fatalf("error body %s (%s): %v", eb, exc, err)
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
// and gives well-framed messages (checked by the AWS SDK's decoder) of valid JSON.
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
		decodeFrames(t, out)
	})
}
