package responses

import (
	"encoding/json"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/formattest"
	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// FuzzRequest: ParseRequest never panics, gives valid JSON or a typed error; a request it
// gives translates a chat completion into valid JSON.
func FuzzRequest(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "request.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRequest(body)
		var chat []byte
		if err == nil {
			chat = r.Chat
		}
		if !formattest.CheckRequest(t, chat, err) {
			return
		}
		resp, err := r.Response([]byte(`{"id":"x","model":"m","created":1,"choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}]}`))
		if err != nil || !json.Valid(resp) {
			t.Fatalf("response %s: %v", resp, err)
		}
	})
}

var fuzzRequest = func() *Request {
	r, err := ParseRequest([]byte(`{"model":"m","input":"hi","instructions":"be \"brief\"","tools":[{"type":"function","name":"f"}],"stream":true}`))
	if err != nil {
		panic(err)
	}
	return r
}()

// FuzzResponse: Response never panics, gives valid JSON or a 502.
func FuzzResponse(f *testing.F) {
	for _, b := range golden.Seeds(f, "testdata", "chat-response.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := fuzzRequest.Response(body)
		formattest.CheckResponse(t, resp, err)
	})
}

// FuzzStream: the stream translator, fed each line of the input as a chunk, never panics
// and gives well-framed events of valid JSON with consecutive sequence numbers.
func FuzzStream(f *testing.F) {
	formattest.FuzzStream(f, func() golden.Stream { return fuzzRequest.NewStream() }, checkEvents)
}
