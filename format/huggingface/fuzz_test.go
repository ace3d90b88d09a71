package huggingface

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzRequest(f *testing.F) {
	formattest.FuzzRequestStream(f, func(body []byte, stream bool) ([]byte, error) {
		r, err := ParseRequest(body, stream)
		if err != nil {
			return nil, err
		}
		return r.Chat, nil
	})
}

var fuzzRequest = &Request{Stream: true, inputs: "Say \"hi\"", fullText: true, details: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// valid TGI error body.
func FuzzResponse(f *testing.F) {
	formattest.FuzzResponse(f, fuzzRequest.Response, func(t *testing.T, status int, body []byte) {
		var e struct {
			Error     string `json:"error"`
			ErrorType string `json:"error_type"`
		}
		if err := json.Unmarshal(Error(status, body), &e); err != nil || e.Error == "" || e.ErrorType == "" {
			t.Fatalf("error body %+v: %v", e, err)
		}
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed events of valid JSON.
func FuzzStream(f *testing.F) {
	formattest.FuzzStream(f, func() golden.Stream { return fuzzRequest.NewStream() }, checkEvents)
}
