package bedrock

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzRequest: ParseRequest never panics, gives valid JSON or a typed error.
func FuzzRequest(f *testing.F) {
	formattest.FuzzRequestStream(f, func(body []byte, stream bool) ([]byte, error) {
		r, err := ParseRequest(body, "amazon.nova-pro-v1:0", stream)
		if err != nil {
			return nil, err
		}
		return r.Chat, nil
	})
}

var fuzzRequest = &Request{Model: "amazon.nova-pro-v1:0", Stream: true}

// FuzzResponse: Response never panics and gives valid JSON or a 502; Error always gives a
// {"message"} body and an exception type.
func FuzzResponse(f *testing.F) {
	formattest.FuzzResponse(f, fuzzRequest.Response, func(t *testing.T, status int, body []byte) {
		var e struct {
			Message string `json:"message"`
		}
		eb, exc := Error(status, body)
		if err := json.Unmarshal(eb, &e); err != nil || e.Message == "" || exc == "" {
			t.Fatalf("error body %s (%s): %v", eb, exc, err)
		}
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed messages (checked by the AWS SDK's decoder) of valid JSON.
func FuzzStream(f *testing.F) {
	formattest.FuzzStream(f, func() golden.Stream { return fuzzRequest.NewStream() }, decodeFrames)
}
