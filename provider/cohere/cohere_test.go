package cohere

import (
	"bytes"
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

func TestNewRequestGolden(t *testing.T) {
	r := chatReq(xlatetest.Read(t, "chat.openai.json"), true)
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://api.cohere.com/v2/chat", req.URL.String())
	assert.Equal(t, "text/event-stream", req.Header.Get("Accept"))
	got, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, string(xlatetest.Read(t, "chat.cohere.json")), string(got))

	// A forced function: only that tool, required.
	body := []byte(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`)
	req, err = Provider{}.NewRequest(context.Background(), chatReq(body, false))
	require.NoError(t, err)
	got, _ = io.ReadAll(req.Body)
	assert.JSONEq(t, `{"model":"command-a-03-2025","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"b"}}],"tool_choice":"REQUIRED","stream":false}`, string(got))
}

func TestParseResponseGolden(t *testing.T) {
	for _, name := range []string{"response_text", "response_tool"} {
		t.Run(name, func(t *testing.T) {
			resp, err := Provider{}.ParseResponse(chatReq([]byte(`{}`), false), date, xlatetest.Read(t, name+".cohere.json"))
			require.NoError(t, err)
			assert.JSONEq(t, string(xlatetest.Read(t, name+".openai.json")), string(resp.Body))
		})
	}
}

func TestStreamGolden(t *testing.T) {
	for _, tt := range []struct {
		name  string
		usage provider.Usage
		body  string
	}{
		{"stream_text", provider.Usage{PromptTokens: 69, CompletionTokens: 2, TotalTokens: 71}, `{"stream":true,"stream_options":{"include_usage":true}}`},
		{"stream_tool", provider.Usage{PromptTokens: 1131, CompletionTokens: 147, TotalTokens: 1278}, `{"stream":true}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := chatReq([]byte(tt.body), true)
			chunks, usage, err := xlatetest.Replay(t, xlatetest.Read(t, tt.name+".sse"), func(rd io.Reader) provider.Stream {
				return Provider{}.NewStream(r, date, rd)
			})
			require.NoError(t, err)
			xlatetest.JSONLinesEqual(t, xlatetest.Read(t, tt.name+".openai.jsonl"), chunks)
			assert.Equal(t, tt.usage, usage)
		})
	}
	raw := xlatetest.Read(t, "stream_text.sse")
	cut := raw[:bytes.Index(raw, []byte("event: message-end"))]
	_, err := xlatetest.Drain(Provider{}.NewStream(chatReq(nil, true), date, bytes.NewReader(cut)))
	assert.ErrorContains(t, err, "before message-end")
}

func TestParseError(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		want   provider.Error
	}{
		{429, `{"id":"1","message":"You are using a Trial key, which is limited to 10 API calls / minute."}`,
			provider.Error{Status: 429, Type: "rate_limit_error", Message: "You are using a Trial key, which is limited to 10 API calls / minute."}},
		{498, `{"message":"invalid api token"}`, provider.Error{Status: 401, Type: "authentication_error", Message: "invalid api token"}},
		{402, `{"message":"Please add a payment method"}`, provider.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "Please add a payment method"}},
		{503, `{"message":"service unavailable"}`, provider.Error{Status: 503, Type: "server_error", Message: "service unavailable"}},
		{400, `{"message":"invalid request: message must be at least 1 token long"}`, provider.Error{Status: 400, Type: "invalid_request_error", Message: "invalid request: message must be at least 1 token long"}},
	} {
		e := Provider{}.ParseError(nil, tt.status, http.Header{}, []byte(tt.body))
		assert.Equal(t, tt.want, *e)
	}
}

func TestEmbeddings(t *testing.T) {
	r := &provider.Request{RouteType: provider.Embeddings, Body: []byte(`{"model":"x","input":["hello","goodbye"]}`),
		Model: provider.Model{Provider: "cohere", Name: "embed-v4.0", Options: provider.Options{Cohere: &provider.CohereOptions{EmbeddingInputType: "search_query"}}}}
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://api.cohere.com/v2/embed", req.URL.String())
	got, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, `{"model":"embed-v4.0","texts":["hello","goodbye"],"input_type":"search_query","embedding_types":["float"]}`, string(got))
	resp, err := Provider{}.ParseResponse(r, date, []byte(`{"id":"da6e531f","embeddings":{"float":[[0.016296387,-0.008354187],[-0.04888916,0.0234375]]},"texts":["hello","goodbye"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":2}}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"object":"list","model":"embed-v4.0","data":[{"object":"embedding","index":0,"embedding":[0.016296387,-0.008354187]},{"object":"embedding","index":1,"embedding":[-0.04888916,0.0234375]}],"usage":{"prompt_tokens":2,"completion_tokens":0,"total_tokens":2}}`, string(resp.Body))
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "cohere", Name: "command-a-03-2025"}}

// TestConformance runs the providertest suite on the *.txtar goldens.
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }

func FuzzNewRequest(f *testing.F) {
	f.Add(xlatetest.Read(f, "chat.openai.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = Provider{}.NewRequest(context.Background(), chatReq(body, true))
	})
}
