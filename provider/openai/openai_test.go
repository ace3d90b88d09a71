package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

func TestNewRequestURL(t *testing.T) {
	tests := []struct {
		name string
		p    Provider
		r    provider.Request
		want string
	}{
		{"default chat", Provider{}, provider.Request{RouteType: provider.Chat}, "https://api.openai.com/v1/chat/completions"},
		{"embeddings", Provider{}, provider.Request{RouteType: provider.Embeddings}, "https://api.openai.com/v1/embeddings"},
		{"completions on base", Provider{BaseURL: "http://vllm:8000/v1/"}, provider.Request{RouteType: provider.Completions}, "http://vllm:8000/v1/completions"},
		{"upstream_url wins", Provider{}, provider.Request{RouteType: provider.Chat, Model: provider.Model{Options: provider.Options{UpstreamURL: "https://api.mistral.ai/v1/chat/completions"}}}, "https://api.mistral.ai/v1/chat/completions"},
		{"upstream_path", Provider{}, provider.Request{RouteType: provider.Chat, Model: provider.Model{Options: provider.Options{UpstreamPath: "/custom/chat"}}}, "https://api.openai.com/v1/custom/chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.Body = []byte(`{}`)
			req, err := tt.p.NewRequest(context.Background(), &tt.r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, req.URL.String())
			assert.Equal(t, http.MethodPost, req.Method)
			assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
		})
	}
}

// The body can be read again (GetBody), which http.Transport needs to resend a request on
// a keep-alive connection the server closed.
func TestNewJSONRequestBody(t *testing.T) {
	body := []byte(`{"model":"gpt-4o"}`)
	req, err := NewJSONRequest(context.Background(), "http://upstream/v1/chat/completions", body, true)
	require.NoError(t, err)
	assert.Equal(t, int64(len(body)), req.ContentLength)
	assert.Equal(t, "text/event-stream", req.Header.Get("Accept"))
	for _, get := range []func() (io.ReadCloser, error){
		func() (io.ReadCloser, error) { return req.Body, nil }, req.GetBody, req.GetBody,
	} {
		rc, err := get()
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.Equal(t, body, got)
		require.NoError(t, rc.Close())
	}

	empty, err := NewJSONRequest(context.Background(), "http://upstream/v1/chat/completions", nil, false)
	require.NoError(t, err)
	assert.Equal(t, http.NoBody, empty.Body)
	assert.Equal(t, int64(0), empty.ContentLength)
}

func TestParseResponse(t *testing.T) {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"2"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":4}}}`)
	resp, err := Provider{}.ParseResponse(nil, nil, body)
	require.NoError(t, err)
	assert.Equal(t, body, resp.Body)
	assert.Equal(t, "gpt-4o-2024-08-06", resp.Model)
	assert.Equal(t, provider.Usage{PromptTokens: 9, CompletionTokens: 1, TotalTokens: 10, CachedTokens: 4}, resp.Usage)

	_, err = Provider{}.ParseResponse(nil, nil, []byte(`<html>`))
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusBadGateway, pe.Status)
}

func TestParseError(t *testing.T) {
	h := http.Header{"Retry-After": {"7"}}
	e := Provider{}.ParseError(nil, 429, h, []byte(`{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`))
	assert.Equal(t, &provider.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached for gpt-4o", RetryAfter: 7e9}, e)

	e = Provider{}.ParseError(nil, 400, nil, []byte(`{"object":"error","message":"bad model","type":"BadRequestError","param":null,"code":400}`))
	assert.Equal(t, "bad model", e.Message)
	assert.Equal(t, "invalid_request_error", e.Type)

	e = Provider{}.ParseError(nil, 503, nil, []byte("upstream connect error"))
	assert.Equal(t, "upstream connect error", e.Message)
	assert.Equal(t, "server_error", e.Type)

	e = Provider{}.ParseError(nil, 500, nil, nil)
	assert.Equal(t, "Internal Server Error", e.Message)
}

const streamBody = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
	": keep-alive\n\n" +
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
	"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n" +
	"data: [DONE]\n\n"

func drain(t *testing.T, s provider.Stream) ([][]byte, error) {
	t.Helper()
	var out [][]byte
	for {
		ev, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, bytes.Clone(ev))
	}
}

func TestStream(t *testing.T) {
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader([]byte(streamBody)),
		"one byte": iotest.OneByteReader(bytes.NewReader([]byte(streamBody))),
	} {
		t.Run(name, func(t *testing.T) {
			s := Provider{}.NewStream(nil, nil, r)
			evs, err := drain(t, s)
			require.NoError(t, err)
			require.Len(t, evs, 4)
			assert.Contains(t, string(evs[1]), `"content":"Hi"`)
			assert.Equal(t, provider.Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}, s.Usage())
		})
	}
}

func TestStreamError(t *testing.T) {
	body := "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n"
	_, err := drain(t, Provider{}.NewStream(nil, nil, bytes.NewReader([]byte(body))))
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "The server had an error", pe.Message)
}

func FuzzParseError(f *testing.F) {
	f.Add(429, []byte(`{"error":{"message":"m","type":"t","code":1}}`))
	f.Add(500, []byte(`{"detail":"x"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseErrorBody(status, nil, body)
		if e == nil || e.Message == "" {
			t.Fatal("ParseErrorBody must always give a message")
		}
	})
}

func FuzzStream(f *testing.F) {
	f.Add([]byte(streamBody))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := Provider{}.NewStream(nil, nil, bytes.NewReader(body))
		for range 10000 {
			if _, err := s.Next(); err != nil {
				return
			}
		}
	})
}
