package cohere

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

var date = http.Header{"Date": {"Mon, 02 Jun 2025 10:00:00 GMT"}}

func chatReq(body []byte, stream bool) *provider.Request {
	return &provider.Request{RouteType: provider.Chat, Body: body, Stream: stream,
		Model: provider.Model{Provider: "cohere", Name: "command-a-03-2025"}}
}

// The golden requests are the conformance suite's (chat_stream_request.txtar, tools.txtar).
func TestNewRequestForcedFunction(t *testing.T) {
	// A forced function: only that tool, required.
	body := []byte(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`)
	req, err := Provider{}.NewRequest(context.Background(), chatReq(body, false))
	require.NoError(t, err)
	got, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, `{"model":"command-a-03-2025","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"b"}}],"tool_choice":"REQUIRED","stream":false}`, string(got))
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "cohere", Name: "command-a-03-2025"}}

// TestConformance runs the providertest suite on the *.txtar goldens.
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }

func FuzzNewRequest(f *testing.F) {
	f.Add(xlatetest.Section(f, "chat_stream_request.txtar", "request.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = Provider{}.NewRequest(context.Background(), chatReq(body, true))
	})
}
