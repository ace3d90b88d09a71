package huggingface

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func TestChat(t *testing.T) {
	yes, no := true, false
	body := []byte(`{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":"hi"}],"stream":true}`)
	r := &provider.Request{RouteType: provider.Chat, Body: body, Stream: true,
		Model: provider.Model{Provider: "huggingface", Name: "meta-llama/Llama-3.1-8B-Instruct",
			Options: provider.Options{Huggingface: &provider.HuggingfaceOptions{UseCache: &no, WaitForModel: &yes}}}}
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://router.huggingface.co/v1/chat/completions", req.URL.String())
	assert.Equal(t, "false", req.Header.Get("x-use-cache"))
	assert.Equal(t, "true", req.Header.Get("x-wait-for-model"))
	got, _ := io.ReadAll(req.Body)
	assert.Equal(t, string(body), string(got))

	r.Model.Options.UpstreamURL = "https://xyz.endpoints.huggingface.cloud/v1/chat/completions"
	req, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, r.Model.Options.UpstreamURL, req.URL.String())

	sse := "data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n"
	chunks, usage, err := xlatetest.Replay(t, []byte(sse), func(rd io.Reader) provider.Stream { return Provider{}.NewStream(r, nil, rd) })
	require.NoError(t, err)
	assert.Len(t, chunks, 2)
	assert.Equal(t, provider.Usage{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4}, usage)
}

func TestEmbeddings(t *testing.T) {
	r := &provider.Request{RouteType: provider.Embeddings, Body: []byte(`{"model":"x","input":["Today is a sunny day","It rains"]}`),
		Model: provider.Model{Provider: "huggingface", Name: "sentence-transformers/all-MiniLM-L6-v2"}}
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://router.huggingface.co/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction", req.URL.String())
	got, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, `{"inputs":["Today is a sunny day","It rains"]}`, string(got))

	resp, err := Provider{}.ParseResponse(r, nil, []byte(`[[0.0368,-0.0066],[0.0101,0.0305]]`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"object":"list","model":"sentence-transformers/all-MiniLM-L6-v2","data":[{"object":"embedding","index":0,"embedding":[0.0368,-0.0066]},{"object":"embedding","index":1,"embedding":[0.0101,0.0305]}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`, string(resp.Body))

	resp, err = Provider{}.ParseResponse(r, nil, []byte(`[0.5,0.25]`))
	require.NoError(t, err)
	assert.Contains(t, string(resp.Body), `"embedding":[0.5,0.25]`)

	_, err = Provider{}.ParseResponse(r, nil, []byte(`[[[0.1,0.2],[0.3,0.4]]]`))
	assert.ErrorContains(t, err, "token vectors")
}

func TestParseError(t *testing.T) {
	e := Provider{}.ParseError(nil, 503, http.Header{"Retry-After": {"20"}}, []byte(`{"error":"Model sentence-transformers/all-MiniLM-L6-v2 is currently loading","estimated_time":20.0}`))
	assert.Equal(t, 503, e.Status)
	assert.Equal(t, "server_error", e.Type)
	assert.Equal(t, "model_loading", e.Code)
	assert.True(t, strings.Contains(e.Message, "currently loading"))
	assert.NotZero(t, e.RetryAfter)

	e = Provider{}.ParseError(nil, 429, http.Header{}, []byte(`{"error":{"message":"You have exceeded your monthly included credits","type":"rate_limit"}}`))
	assert.Equal(t, 429, e.Status)
	assert.Equal(t, "You have exceeded your monthly included credits", e.Message)
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`[[0.1,0.2]]`))
	f.Add([]byte(`[0.1]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &provider.Request{RouteType: provider.Embeddings, Model: provider.Model{Name: "m"}}
		_, _ = Provider{}.ParseResponse(r, nil, body)
		_ = Provider{}.ParseError(r, 503, http.Header{}, body)
	})
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "huggingface", Name: "meta-llama/Llama-3.1-8B-Instruct"}}

// TestConformance runs the providertest suite on the *.txtar goldens.
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }
