package mistral

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func TestFormats(t *testing.T) {
	body := []byte(`{"model":"mistral-large-latest","messages":[{"role":"user","content":"hi"}]}`)
	r := &provider.Request{RouteType: provider.Chat, Body: body, Model: provider.Model{Provider: "mistral", Name: "mistral-large-latest"}}
	hr, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://api.mistral.ai/v1/chat/completions", hr.URL.String())

	r.RouteType = provider.Embeddings
	hr, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "https://api.mistral.ai/v1/embeddings", hr.URL.String())

	r.RouteType = provider.Chat
	r.Model.Options.MistralFormat = "ollama"
	_, err = Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "upstream_url")
	r.Model.Options.UpstreamURL = "http://ollama:11434/api/chat"
	hr, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	got, _ := io.ReadAll(hr.Body)
	assert.JSONEq(t, `{"model":"mistral-large-latest","messages":[{"role":"user","content":"hi"}],"stream":false}`, string(got))

	s := Provider{}.NewStream(r, http.Header{}, strings.NewReader(`{"model":"mistral","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"yo"},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}`+"\n"))
	n := 0
	for {
		if _, err := s.Next(); err != nil {
			assert.Equal(t, io.EOF, err)
			break
		}
		n++
	}
	assert.Equal(t, 3, n) // role, content, finish
	assert.Equal(t, provider.Usage{PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2}, s.Usage())

	r.Model.Options.MistralFormat = "bogus"
	_, err = Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "unknown mistral_format")
}

// A stream without a request (as the fuzz and benchmark helpers may make) is the openai
// format's, with no usage chunk asked.
func TestStreamNilRequest(t *testing.T) {
	s := Provider{}.NewStream(nil, nil, strings.NewReader("data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n"))
	evs, usage, err := providertest.Drain(s)
	require.NoError(t, err)
	assert.Len(t, evs, 1)
	assert.NotContains(t, string(evs[0]), "usage")
	assert.Equal(t, 2, usage.TotalTokens)
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "mistral", Name: "mistral-large-latest"}}

// TestConformance runs the providertest suite on the *.txtar goldens (openai and ollama formats).
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }
