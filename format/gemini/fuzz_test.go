package gemini

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzParseRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzParseRequest(f *testing.F) {
	formattest.FuzzRequestStream(f, func(body []byte, stream bool) ([]byte, error) {
		r, err := ParseRequest(body, "gemini-2.5-flash", stream)
		if err != nil {
			return nil, err
		}
		return r.Chat, nil
	})
}

var fuzzRequest = &Request{Model: "gemini-2.5-flash", Stream: true, thoughts: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// valid Google error object.
func FuzzResponse(f *testing.F) {
	formattest.FuzzResponse(f, fuzzRequest.Response, func(t *testing.T, status int, body []byte) {
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
				Status  string `json:"status"`
			} `json:"error"`
		}
		if err := json.Unmarshal(Error(status, body), &e); err != nil || e.Error.Code != status || e.Error.Status == "" || e.Error.Message == "" {
			t.Fatalf("error body %+v: %v", e, err)
		}
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed responses of valid JSON, in both framings.
func FuzzStream(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "chat-stream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sse := range []bool{true, false} {
			checkStream(t, formattest.Feed(fuzzRequest.NewStream(sse), body), sse)
		}
	})
}
