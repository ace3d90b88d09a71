package aiproxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// storedResponse is OpenAI's response object of a stored response, as GET returns it.
const storedResponse = `{"id":"resp_1","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4.1",` +
	`"output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],` +
	`"store":true,"usage":{"input_tokens":5,"output_tokens":1,"total_tokens":6}}`

// fakeStoredResponses serves OpenAI's stored-response endpoints for resp_1 to the key
// sk-oa, and records each request.
func fakeStoredResponses(t *testing.T, reqs *[]aiproxytest.Request) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		*reqs = append(*reqs, aiproxytest.Request{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer sk-oa" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/responses/resp_1":
			io.WriteString(w, storedResponse)
		case "DELETE /v1/responses/resp_1":
			io.WriteString(w, `{"id":"resp_1","object":"response","deleted":true}`)
		case "GET /v1/responses/resp_1/input_items":
			io.WriteString(w, `{"object":"list","data":[{"id":"msg_0","type":"message","role":"user","status":"completed","content":[{"type":"input_text","text":"Hi"}]}],"first_id":"msg_0","last_id":"msg_0","has_more":false}`)
		case "POST /v1/responses/resp_1/cancel":
			io.WriteString(w, storedResponse[:len(storedResponse)-1]+`,"background":true}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"message":"Response with id 'resp_x' not found.","type":"invalid_request_error","param":null,"code":null}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestStoredResponses: openai-go's Responses.Get, InputItems.List, Cancel and Delete reach
// the OpenAI target's stored-response endpoints below its Responses endpoint (derived from a
// chat target's upstream_url), with the target's key and the client's query; a read is not
// metered again; an unknown id is OpenAI's 404. A proxy whose targets keep no responses
// answers 400 naming the providers that do.
func TestStoredResponses(t *testing.T) {
	var reqs []aiproxytest.Request
	srv := fakeStoredResponses(t, &reqs)
	oa := aiproxy.Target{Model: provider.Model{Provider: "openai", Name: "gpt-4.1", Options: provider.Options{UpstreamURL: srv.URL + "/v1/chat/completions"}},
		Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-oa"}}
	p, log := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{oa}})
	ctx := context.Background()
	for _, name := range []string{"roundtripper", "handler"} {
		t.Run(name, func(t *testing.T) {
			reqs = reqs[:0]
			client := openaiClient(p)
			if name == "handler" {
				h := httptest.NewServer(p)
				defer h.Close()
				client = openai.NewClient(option.WithBaseURL(h.URL+"/v1"), option.WithAPIKey("sk-client"), option.WithMaxRetries(0))
			}
			got, err := client.Responses.Get(ctx, "resp_1", responses.ResponseGetParams{Include: []responses.ResponseIncludable{"message.output_text.logprobs"}})
			require.NoError(t, err)
			assert.Equal(t, "Hello", got.OutputText())
			s := log.last(t)
			assert.Equal(t, provider.Responses, s.Route)
			assert.Zero(t, s.Usage, "reading a stored response is not new work")

			items, err := client.Responses.InputItems.List(ctx, "resp_1", responses.InputItemListParams{})
			require.NoError(t, err)
			require.Len(t, items.Data, 1)
			assert.Equal(t, "msg_0", items.Data[0].ID)

			cancelled, err := client.Responses.Cancel(ctx, "resp_1")
			require.NoError(t, err)
			assert.True(t, cancelled.Background)

			require.NoError(t, client.Responses.Delete(ctx, "resp_1"))

			_, err = client.Responses.Get(ctx, "resp_x", responses.ResponseGetParams{})
			var apiErr *openai.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			assert.Contains(t, apiErr.Message, "resp_x")

			require.Len(t, reqs, 5)
			assert.Equal(t, "/v1/responses/resp_1?include%5B%5D=message.output_text.logprobs", reqs[0].Path)
			assert.Equal(t, "GET /v1/responses/resp_1/input_items", reqs[1].Method+" "+reqs[1].Path)
			assert.Equal(t, "POST /v1/responses/resp_1/cancel", reqs[2].Method+" "+reqs[2].Path)
			assert.Equal(t, "DELETE /v1/responses/resp_1", reqs[3].Method+" "+reqs[3].Path)
			for _, r := range reqs {
				assert.Equal(t, "Bearer sk-oa", r.Header.Get("Authorization"), "the target's key, not the client's")
			}
		})
	}

	an := newAnthropicFake()
	defer an.Close()
	p2, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{anTarget(an, "claude-sonnet-4-5")}})
	client2 := openaiClient(p2)
	_, err := client2.Responses.Get(ctx, "resp_1", responses.ResponseGetParams{})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "openai and azure")
	assert.Empty(t, an.Requests())
}
