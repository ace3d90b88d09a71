package compat

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func TestEndpoints(t *testing.T) {
	f := false
	tests := []struct {
		name    string
		route   provider.RouteType
		opts    provider.Options
		want    string
		wantErr string
	}{
		{"deepseek", provider.Chat, provider.Options{}, "https://api.deepseek.com/chat/completions", ""},
		{"deepseek", provider.Chat, provider.Options{UpstreamURL: "https://proxy.example/ds"}, "https://proxy.example/ds", ""},
		{"xai", provider.Chat, provider.Options{}, "https://api.x.ai/v1/chat/completions", ""},
		{"xai", provider.Embeddings, provider.Options{}, "https://api.x.ai/v1/embeddings", ""},
		{"cerebras", provider.Chat, provider.Options{}, "https://api.cerebras.ai/v1/chat/completions", ""},
		{"cerebras", provider.Completions, provider.Options{}, "https://api.cerebras.ai/v1/completions", ""},
		{"databricks", provider.Chat, provider.Options{}, "", "upstream_url is required"},
		{"databricks", provider.Chat, provider.Options{UpstreamURL: "https://dbc-1.cloud.databricks.com/serving-endpoints"}, "https://dbc-1.cloud.databricks.com/serving-endpoints/chat/completions", ""},
		{"databricks", provider.Embeddings, provider.Options{UpstreamURL: "https://dbc-1.cloud.databricks.com/serving-endpoints/"}, "https://dbc-1.cloud.databricks.com/serving-endpoints/embeddings", ""},
		{"dashscope", provider.Chat, provider.Options{}, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions", ""},
		{"dashscope", provider.Chat, provider.Options{Dashscope: &provider.DashscopeOptions{International: &f}}, "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions", ""},
		{"dashscope", provider.Embeddings, provider.Options{Dashscope: &provider.DashscopeOptions{}}, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/embeddings", ""},
		{"vllm", provider.Chat, provider.Options{}, "", "upstream_url is required"},
		{"vllm", provider.Chat, provider.Options{UpstreamURL: "http://vllm:8000/v1"}, "http://vllm:8000/v1/chat/completions", ""},
		{"vllm", provider.Chat, provider.Options{UpstreamURL: "http://vllm:8000/v1/chat/completions"}, "http://vllm:8000/v1/chat/completions", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.want, func(t *testing.T) {
			p, ok := New(tt.name)
			require.True(t, ok)
			assert.Equal(t, tt.name, p.Name)
			body := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`)
			req, err := p.NewRequest(context.Background(), &provider.Request{RouteType: tt.route, Body: body, Stream: true,
				Model: provider.Model{Provider: tt.name, Name: "m", Options: tt.opts}})
			if tt.wantErr != "" {
				var pe *provider.Error
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, http.StatusBadRequest, pe.Status)
				assert.Contains(t, pe.Message, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, req.URL.String())
			assert.Equal(t, http.MethodPost, req.Method)
			assert.Equal(t, "text/event-stream", req.Header.Get("Accept"))
		})
	}
	_, ok := New("openai")
	assert.False(t, ok)
}

func TestPassThrough(t *testing.T) {
	body := []byte(`{"id":"x","object":"chat.completion","created":1,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"prompt_cache_hit_tokens":0}}`)
	resp, err := DeepSeek().ParseResponse(nil, nil, body)
	require.NoError(t, err)
	assert.Equal(t, body, resp.Body)
	assert.Equal(t, 4, resp.Usage.TotalTokens)
	e := XAI().ParseError(nil, 429, nil, []byte(`{"code":"Some resource has been exhausted","error":"Too many requests"}`))
	assert.Equal(t, 429, e.Status)
	assert.Equal(t, "Too many requests", e.Message)
}

// TestConformance runs the providertest suite on testdata/<name>/*.txtar for every provider.
func TestConformance(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { providertest.Run(t, testCase(name)) })
	}
}

var names = []string{"cerebras", "dashscope", "databricks", "deepseek", "vllm", "xai"}

func testCase(name string) providertest.Case {
	p, _ := New(name)
	return providertest.Case{Provider: p, Model: provider.Model{Provider: name, Name: "m"}, Dir: "testdata/" + name}
}

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase("deepseek")) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase("deepseek")) }
