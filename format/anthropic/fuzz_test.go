package anthropic

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzRequest(f *testing.F) {
	formattest.FuzzRequest(f, func(body []byte) ([]byte, error) {
		r, err := ParseRequest(body)
		if err != nil {
			return nil, err
		}
		return r.Chat, nil
	})
}

var fuzzRequest = &Request{Model: "claude-sonnet-4-5", Stream: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// valid Anthropic error body.
func FuzzResponse(f *testing.F) {
	formattest.FuzzResponse(f, fuzzRequest.Response, func(t *testing.T, status int, body []byte) {
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(Error(status, body), &e); err != nil || e.Type != "error" || e.Error.Type == "" || e.Error.Message == "" {
			t.Fatalf("error body %+v: %v", e, err)
		}
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed events of valid JSON.
func FuzzStream(f *testing.F) {
	formattest.FuzzStream(f, func() golden.Stream { return fuzzRequest.NewStream() }, formattest.NamedEvents)
}
