package llama2

import (
	"context"
	"encoding/json"
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

func req(format string, body []byte, stream bool) *provider.Request {
	return &provider.Request{RouteType: provider.Chat, Body: body, Stream: stream,
		Model: provider.Model{Provider: "llama2", Name: "llama2-7b-chat",
			Options: provider.Options{Llama2Format: format, UpstreamURL: "http://tgi:8080/generate"}}}
}

var date = http.Header{"Date": {"Mon, 02 Jun 2025 10:00:00 GMT"}}

func TestRawRequest(t *testing.T) {
	// raw_chat.txtar is the golden of the default format; "raw" named explicitly is the same.
	var bodies [2][]byte
	for i, format := range []string{"", "raw"} {
		r := req(format, xlatetest.Section(t, "raw_chat.txtar", "request.json"), false)
		hr, err := Provider{}.NewRequest(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, "http://tgi:8080/generate", hr.URL.String())
		bodies[i], _ = io.ReadAll(hr.Body)
	}
	assert.Equal(t, string(bodies[0]), string(bodies[1]))

	p, err := Prompt([]provider.Message{{Role: "user", Content: provider.Content{Text: "Hi"}}})
	require.NoError(t, err)
	assert.Equal(t, "<s>[INST] Hi [/INST]", p)

	for name, body := range map[string]string{
		"ends with assistant": `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
		"tools":               `{"messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
		"image":               `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}`,
	} {
		_, err := Provider{}.NewRequest(context.Background(), req("raw", []byte(body), false))
		var pe *provider.Error
		require.ErrorAs(t, err, &pe, name)
		assert.Equal(t, 400, pe.Status, name)
	}
	r := req("raw", []byte(`{"messages":[]}`), false)
	r.Model.Options.UpstreamURL = ""
	_, err = Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "upstream_url")
}

func TestRawResponse(t *testing.T) {
	want := func(content, finish string, usage string) string {
		return `{"id":"X","object":"chat.completion","created":1748858400,"model":"llama2-7b-chat","choices":[{"index":0,"message":{"role":"assistant","content":` +
			mustJSON(content) + `},"finish_reason":"` + finish + `"}],"usage":` + usage + `}`
	}
	tests := map[string]struct{ body, want string }{
		"kong shape": {`{"data":[{"generated_text":"<s>[INST] What is 1 + 1? [/INST] 1 + 1 = 2. "}],"usage":{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18}}`,
			want("1 + 1 = 2.", "stop", `{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18}`)},
		"huggingface list": {`[{"generated_text":"[INST] q [/INST]  It is 4."}]`,
			want("It is 4.", "stop", `{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`)},
		"tgi generate": {`{"generated_text":"It is 4.","details":{"finish_reason":"length","generated_tokens":5,"seed":null}}`,
			want("It is 4.", "length", `{"prompt_tokens":0,"completion_tokens":5,"total_tokens":5}`)},
		"llama.cpp": {`{"content":" It is 4.","tokens_predicted":5,"tokens_evaluated":20,"stopped_limit":false,"stopped_eos":true}`,
			want("It is 4.", "stop", `{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}`)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := Provider{}.ParseResponse(req("raw", []byte(`{}`), false), date, []byte(tt.body))
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(resp.Body, &m))
			assert.True(t, strings.HasPrefix(m["id"].(string), "chatcmpl-"))
			m["id"] = "X"
			got, _ := json.Marshal(m)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
	_, err := Provider{}.ParseResponse(req("raw", nil, false), date, []byte(`{"foo":1}`))
	assert.Error(t, err)
}

func mustJSON(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestRawStream(t *testing.T) {
	body := []byte(`{"generated_text":"[INST] q [/INST] It is 4.","details":{"finish_reason":"eos_token","generated_tokens":5}}`)
	r := req("raw", []byte(`{"stream":true,"stream_options":{"include_usage":true}}`), true)
	chunks, usage, err := xlatetest.Replay(t, body, func(rd io.Reader) provider.Stream { return Provider{}.NewStream(r, date, rd) })
	require.NoError(t, err)
	assert.Equal(t, provider.Usage{CompletionTokens: 5, TotalTokens: 5}, usage)
	xlatetest.JSONLinesEqual(t, []byte(`{"id":"IGNORED","object":"chat.completion.chunk","created":1748858400,"model":"llama2-7b-chat","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
{"id":"IGNORED","object":"chat.completion.chunk","created":1748858400,"model":"llama2-7b-chat","choices":[{"index":0,"delta":{"content":"It is 4."},"finish_reason":null}]}
{"id":"IGNORED","object":"chat.completion.chunk","created":1748858400,"model":"llama2-7b-chat","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
{"id":"IGNORED","object":"chat.completion.chunk","created":1748858400,"model":"llama2-7b-chat","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":5,"total_tokens":5}}`), xlatetest.MaskIDs(t, chunks))
}

func TestFormats(t *testing.T) {
	body := []byte(`{"model":"llama2","messages":[{"role":"user","content":"hi"}]}`)
	hr, err := Provider{}.NewRequest(context.Background(), req("openai", body, false))
	require.NoError(t, err)
	got, _ := io.ReadAll(hr.Body)
	assert.Equal(t, string(body), string(got), "openai format passes the body through")

	r := req("ollama", body, false)
	r.Model.Options.UpstreamURL = "http://ollama:11434/api/chat"
	hr, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "http://ollama:11434/api/chat", hr.URL.String())
	got, _ = io.ReadAll(hr.Body)
	assert.JSONEq(t, `{"model":"llama2-7b-chat","messages":[{"role":"user","content":"hi"}],"stream":false}`, string(got))

	_, err = Provider{}.NewRequest(context.Background(), req("gguf", body, false))
	assert.ErrorContains(t, err, "unknown llama2_format")

	e := Provider{}.ParseError(req("raw", nil, false), 503, http.Header{}, []byte(`{"error":"Model meta-llama/Llama-2-7b-chat-hf is currently loading","estimated_time":20.0}`))
	assert.Equal(t, provider.Error{Status: 503, Type: "server_error", Message: "Model meta-llama/Llama-2-7b-chat-hf is currently loading"}, *e)
}

func FuzzRaw(f *testing.F) {
	f.Add([]byte(`{"data":[{"generated_text":"[/INST] x"}]}`))
	f.Add([]byte(`[{"generated_text":"x"}]`))
	f.Add([]byte(`{"content":"x","tokens_predicted":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if resp, err := (Provider{}).ParseResponse(req("raw", nil, false), nil, body); err == nil {
			require.True(t, json.Valid(resp.Body))
		}
		_, _ = xlatetest.Drain(Provider{}.NewStream(req("raw", nil, true), nil, strings.NewReader(string(body))))
		_, _ = Provider{}.NewRequest(context.Background(), req("raw", body, false))
	})
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "llama2", Name: "llama2-7b-chat",
	Options: provider.Options{UpstreamURL: "http://tgi:8080/generate"}}}

// TestConformance runs the providertest suite on the *.txtar goldens (raw, ollama and openai formats).
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }
