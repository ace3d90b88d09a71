package cohere

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzParseRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzParseRequest(f *testing.F) {
	formattest.FuzzRequest(f, func(body []byte) ([]byte, error) {
		r, err := ParseRequest(body)
		if err != nil {
			return nil, err
		}
		return r.Chat, nil
	})
}

var fuzzRequest = &Request{Model: "command-a-03-2025", Stream: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// valid Cohere error body.
func FuzzResponse(f *testing.F) {
	formattest.FuzzResponse(f, fuzzRequest.Response, func(t *testing.T, status int, body []byte) {
		var e struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(Error(status, body), &e); err != nil || e.Message == "" {
			t.Fatalf("error body %+v: %v", e, err)
		}
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed events of valid JSON.
func FuzzStream(f *testing.F) {
	formattest.FuzzStream(f, func() golden.Stream { return fuzzRequest.NewStream() }, formattest.NamedEvents)
}
